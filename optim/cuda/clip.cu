// CUDA clipping kernels. Sum of squares: a grid-stride pass where each thread accumulates in f64,
// as the CPU does (squares of f32 gradients above 1.8e19 overflow an f32 sum, and clipping would
// then be skipped), and each block writes its sum; then one block adds the block sums. The grid
// depends only on n, so the result is the same run to run. The pass is bound by memory, not f64.
#include <algorithm>

#include "core/dispatch.h"
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/cuda/loops.cuh"
#include "optim/clip_kernels.h"

namespace gau::optim::cuda {

using ops::cuda::blocks_for;
using ops::cuda::current_cuda_stream;
using ops::cuda::DeviceGuard;
using ops::cuda::kThreads;
using ops::cuda::to_acc;

namespace {

constexpr int kMaxBlocks = 1024;
constexpr int kFinalThreads = 1024;

//   torch: partial[b] = (g[range of block b] ** 2).sum()
template <typename T>
__global__ void sum_squares_blocks(const T* g, int64_t n, double* partial) {
  __shared__ double smem[32];
  double s = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = static_cast<double>(to_acc(g[i]));
    s += v * v;
  }
  s = ops::cuda::block_sum(s, smem);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// out[0] = Σ partial, in f64, by one block.
__global__ void sum_partials(const double* partial, int blocks, double* out) {
  __shared__ double smem[32];
  double s = 0;
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) s += partial[b];
  s = ops::cuda::block_sum(s, smem);
  if (threadIdx.x == 0) out[0] = s;
}

//   torch: g.clamp_(-max_value, max_value)
template <typename T>
__global__ void clamp_kernel(T* g, int64_t n, acc_t<T> hi) {
  using A = acc_t<T>;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const A v = to_acc(g[i]);
    if (v > hi) g[i] = T(hi);
    if (v < -hi) g[i] = T(-hi);
  }
}

}  // namespace

Tensor sum_squares(const Tensor& grads) {
  DeviceGuard guard(grads.device());
  Tensor out = Tensor::empty({1}, DType::f64, grads.device());
  const int64_t n = grads.numel();
  cudaStream_t stream = current_cuda_stream(grads.device());
  const int blocks = static_cast<int>(std::min<unsigned>(blocks_for(n), kMaxBlocks));
  dispatch_floating(grads.dtype(), "sum_squares", [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor partial = Tensor::empty({blocks}, DType::f64, grads.device());  // [blocks]
    sum_squares_blocks<T><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(grads.data_ptr()), n,
                                                           static_cast<double*>(partial.data_ptr()));
    GAU_CUDA_CHECK_LAUNCH();
    sum_partials<<<1, kFinalThreads, 0, stream>>>(static_cast<const double*>(partial.data_ptr()), blocks,
                                                  static_cast<double*>(out.data_ptr()));
    GAU_CUDA_CHECK_LAUNCH();
  });
  return out;
}

void clamp_(const Tensor& grads, double max_value) {
  const int64_t n = grads.numel();
  if (n == 0) return;
  DeviceGuard guard(grads.device());
  cudaStream_t stream = current_cuda_stream(grads.device());
  dispatch_floating(grads.dtype(), "clip_grad_value", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    clamp_kernel<T>
        <<<blocks_for(n), kThreads, 0, stream>>>(static_cast<T*>(grads.data_ptr()), n, static_cast<A>(max_value));
    GAU_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gau::optim::cuda
