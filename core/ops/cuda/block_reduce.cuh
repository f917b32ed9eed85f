#pragma once
// Warp and block reductions for the reduction, softmax and loss kernels.
#include <cuda_runtime.h>

namespace gau::ops::cuda {

template <typename A>
__device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <typename A>
__device__ __forceinline__ A warp_max(A v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    A other = __shfl_xor_sync(0xffffffffu, v, o);
    v = other > v ? other : v;
  }
  return v;
}

// Sum over a 1-D block (blockDim.x a multiple of 32, at most 1024), returned to every thread.
// `smem` holds 32 values; the call starts and ends with a barrier, so it can be called repeatedly.
template <typename A>
__device__ A block_sum(A v, A* smem) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  A total = lane < warps ? smem[lane] : A(0);
  total = warp_sum(total);
  return total;
}

template <typename A>
__device__ A block_max(A v, A* smem, A lowest) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  A total = lane < warps ? smem[lane] : lowest;
  total = warp_max(total);
  return total;
}

}  // namespace gau::ops::cuda
