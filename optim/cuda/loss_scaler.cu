// CUDA unscale-and-check: one grid-stride pass that multiplies in place; a block that saw an inf
// or nan writes 1 to the device flag (every writer writes the same value, so no atomics).
#include <cmath>

#include "core/dispatch.h"
#include "core/ops/cuda/loops.cuh"
#include "optim/loss_scaler_kernels.h"

namespace gau::optim::cuda {

using ops::cuda::blocks_for;
using ops::cuda::current_cuda_stream;
using ops::cuda::DeviceGuard;
using ops::cuda::kThreads;
using ops::cuda::to_acc;

namespace {

//   torch: found |= ~torch.isfinite(g).all(); g *= inv_scale   (torch._amp_foreach_non_finite_check_and_unscale_)
template <typename T>
__global__ void unscale_check_kernel(T* g, int64_t n, acc_t<T> inv, int32_t* found) {
  using A = acc_t<T>;
  int bad = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const A v = to_acc(g[i]);
    bad |= !isfinite(v);
    g[i] = T(v * inv);
  }
  if (__syncthreads_or(bad) && threadIdx.x == 0) *found = 1;
}

}  // namespace

void unscale_and_check_(const Tensor& grads, double inv_scale, const Tensor& found) {
  const int64_t n = grads.numel();
  if (n == 0) return;
  DeviceGuard guard(grads.device());
  cudaStream_t stream = current_cuda_stream(grads.device());
  dispatch_floating(grads.dtype(), "unscale_and_check_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    unscale_check_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        static_cast<T*>(grads.data_ptr()), n, static_cast<A>(inv_scale), static_cast<int32_t*>(found.data_ptr()));
    GAU_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace gau::optim::cuda
