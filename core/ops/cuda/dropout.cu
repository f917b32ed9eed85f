// CUDA dropout: one thread per Philox block of 4 elements.
#include "core/dispatch.h"
#include "core/ops/cuda/loops.cuh"
#include "core/ops/dropout_kernels.h"
#include "core/ops/scalar_math.h"

namespace gau::ops::cuda {
namespace {

//   torch: y = x * mask / (1 - p)
template <typename T>
__global__ void dropout_kernel(const T* x, T* y, int64_t n, float keep_p, acc_t<T> scale, uint64_t seed,
                               uint64_t offset) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < blocks; b += int64_t(gridDim.x) * blockDim.x) {
    const Philox4 bits = philox4x32_10(seed, offset + static_cast<uint64_t>(b));
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int64_t i = 4 * b + k;
      if (i < n) y[i] = math::dropout_keep_word(bits.v[k], keep_p) ? T(to_acc(x[i]) * scale) : T(0.0f);
    }
  }
}

}  // namespace

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  DeviceGuard guard(x.device());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // [numel]
  const int64_t n = x.numel();
  if (n == 0) return y;
  cudaStream_t stream = current_cuda_stream(x.device());
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    const A scale = static_cast<A>(1 / (1 - p));
    dropout_kernel<T><<<blocks_for((n + 3) / 4), kThreads, 0, stream>>>(static_cast<const T*>(x.data_ptr()),
                                                                        static_cast<T*>(y.data_ptr()), n,
                                                                        static_cast<float>(p), scale, seed, offset);
    GAU_CUDA_CHECK_LAUNCH();
  });
  return y;
}

}  // namespace gau::ops::cuda
