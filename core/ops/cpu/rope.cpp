// CPU RoPE: OpenMP over rows; per row one pass over the h rotated pairs, then a copy of the rest.
#include <cstring>

#include "core/dispatch.h"
#include "core/ops/cpu/parallel.h"
#include "core/ops/rope_kernels.h"

namespace gau::ops::cpu {
namespace {

//   torch: y[..., :r] = x[..., :r] * cos + rotate_half(x[..., :r]) * sin;  y[..., r:] = x[..., r:]
template <typename T, typename C>
void rope_kernel(const T* x, const C* table, T* y, int64_t rows, int64_t s, int64_t r, int64_t n, int64_t offset,
                 bool inverse) {
  using A = acc_t<T>;
  const int64_t h = r / 2;
  const A sign = inverse ? A(-1) : A(1);
#pragma omp parallel for schedule(static) if (rows * s >= kParallelMin)
  for (int64_t row = 0; row < rows; ++row) {
    const C* cs = table + (offset + row % n) * r;
    const T* xr = x + row * s;
    T* yr = y + row * s;
#pragma omp simd
    for (int64_t i = 0; i < h; ++i) {
      const A c = static_cast<A>(cs[i]), sn = sign * static_cast<A>(cs[h + i]);
      const A x1 = static_cast<A>(xr[i]), x2 = static_cast<A>(xr[h + i]);
      yr[i] = static_cast<T>(x1 * c - x2 * sn);
      yr[h + i] = static_cast<T>(x2 * c + x1 * sn);
    }
    if (r < s) std::memcpy(yr + r, xr + r, static_cast<size_t>(s - r) * sizeof(T));
  }
}

}  // namespace

Tensor rope(const Tensor& x, const Tensor& table, int64_t n, int64_t position_offset, bool inverse) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // [rows, s]
  const int64_t rows = x.size(0), s = x.size(1), r = table.size(1);
  dispatch_floating(x.dtype(), "rope", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (table.dtype() == DType::f64)
      rope_kernel<T, double>(x.data<T>(), table.data<double>(), y.data<T>(), rows, s, r, n, position_offset, inverse);
    else
      rope_kernel<T, float>(x.data<T>(), table.data<float>(), y.data<T>(), rows, s, r, n, position_offset, inverse);
  });
  return y;
}

}  // namespace gau::ops::cpu
