// CUDA RoPE: one thread per (row, k), k in [0, s - h): k < h rotates the pair (k, k + h), the
// others copy feature k + h of the unrotated tail.
#include "core/dispatch.h"
#include "core/ops/cuda/loops.cuh"
#include "core/ops/rope_kernels.h"

namespace gau::ops::cuda {
namespace {

//   torch: y[..., :r] = x[..., :r] * cos + rotate_half(x[..., :r]) * sin;  y[..., r:] = x[..., r:]
template <typename T, typename C>
__global__ void rope_kernel(const T* x, const C* table, T* y, int64_t rows, int64_t s, int64_t r, int64_t n,
                            int64_t offset, bool inverse) {
  using A = acc_t<T>;
  const int64_t h = r / 2, per_row = s - h, total = rows * per_row;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = t / per_row, k = t % per_row;
    const T* xr = x + row * s;
    T* yr = y + row * s;
    if (k >= h) {
      yr[k + h] = xr[k + h];
      continue;
    }
    const C* cs = table + (offset + row % n) * r;
    const A c = static_cast<A>(cs[k]), sn = (inverse ? A(-1) : A(1)) * static_cast<A>(cs[h + k]);
    const A x1 = to_acc(xr[k]), x2 = to_acc(xr[h + k]);
    yr[k] = T(x1 * c - x2 * sn);
    yr[h + k] = T(x2 * c + x1 * sn);
  }
}

}  // namespace

Tensor rope(const Tensor& x, const Tensor& table, int64_t n, int64_t position_offset, bool inverse) {
  DeviceGuard guard(x.device());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // [rows, s]
  const int64_t rows = x.size(0), s = x.size(1), r = table.size(1);
  if (rows == 0) return y;
  cudaStream_t stream = current_cuda_stream(x.device());
  const unsigned blocks = blocks_for(rows * (s - r / 2));
  dispatch_floating(x.dtype(), "rope", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = static_cast<const T*>(x.data_ptr());
    T* yp = static_cast<T*>(y.data_ptr());
    if (table.dtype() == DType::f64)
      rope_kernel<T, double><<<blocks, kThreads, 0, stream>>>(xp, static_cast<const double*>(table.data_ptr()), yp,
                                                              rows, s, r, n, position_offset, inverse);
    else
      rope_kernel<T, float><<<blocks, kThreads, 0, stream>>>(xp, static_cast<const float*>(table.data_ptr()), yp, rows,
                                                             s, r, n, position_offset, inverse);
    GAU_CUDA_CHECK_LAUNCH();
  });
  return y;
}

}  // namespace gau::ops::cuda
