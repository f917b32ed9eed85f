#include "core/ops/cuda/index_check.h"

#include <climits>

#include "core/dispatch.h"
#include "core/ops/cuda/loops.cuh"

namespace gau::ops::cuda {

namespace {

template <typename I>
__global__ void first_bad_kernel(const I* idx, int64_t n, int64_t limit, bool has_ignore, int64_t ignore,
                                 unsigned long long* first) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t v = static_cast<int64_t>(idx[i]);
    if ((v < 0 || v >= limit) && !(has_ignore && v == ignore)) atomicMin(first, static_cast<unsigned long long>(i));
  }
}

}  // namespace

void check_index_range(const Tensor& indices, int64_t limit, bool has_ignore, int64_t ignore, const char* op,
                       const char* what, const std::string& context) {
  const int64_t n = indices.numel();
  if (n == 0) return;
  DeviceGuard guard(indices.device());
  Tensor idx = contiguous_on_device(indices);
  Tensor first = Tensor::empty({1}, DType::i64, indices.device());
  cudaStream_t stream = current_cuda_stream(indices.device());
  GAU_CUDA_CHECK(cudaMemsetAsync(first.data_ptr(), 0xff, sizeof(int64_t), stream));  // ULLONG_MAX: none found
  unsigned long long host_first = 0;
  dispatch_index(idx.dtype(), op, [&](auto tag) {
    using I = typename decltype(tag)::type;
    first_bad_kernel<I><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<const I*>(idx.data_ptr()), n, limit,
                                                                 has_ignore, ignore,
                                                                 static_cast<unsigned long long*>(first.data_ptr()));
    GAU_CUDA_CHECK_LAUNCH();
  });
  GAU_CUDA_CHECK(cudaMemcpyAsync(&host_first, first.data_ptr(), sizeof(host_first), cudaMemcpyDeviceToHost, stream));
  GAU_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (host_first == ULLONG_MAX) return;
  int64_t value = 0;
  dispatch_index(idx.dtype(), op, [&](auto tag) {
    using I = typename decltype(tag)::type;
    I v{};
    // On the op's stream, not the legacy default stream (which would wait on every blocking stream).
    GAU_CUDA_CHECK(cudaMemcpyAsync(&v, static_cast<const I*>(idx.data_ptr()) + host_first, sizeof(I),
                                   cudaMemcpyDeviceToHost, stream));
    GAU_CUDA_CHECK(cudaStreamSynchronize(stream));
    value = static_cast<int64_t>(v);
  });
  GAU_FAIL(op, ": ", what, " ", value, " at position ", static_cast<int64_t>(host_first), " is out of range [0, ",
           limit, ")", has_ignore ? " and is not ignore_index " + std::to_string(ignore) : std::string(), " (",
           context, ")");
}

}  // namespace gau::ops::cuda
