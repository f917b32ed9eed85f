#include "core/ops/softmax_kernels.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dispatch.h"
#include "core/ops/copy.h"
#include "core/ops/cpu/reduce_split.h"
#include "core/ops/cpu/vec_math.h"

namespace gau::ops::cpu {
namespace {

// y = softmax(x) or log_softmax(x) along the split dim, max-subtracted.
template <typename T, bool Log>
void softmax_kernel(const T* x, T* y, const DimSplit& s) {
  using A = acc_t<T>;
  for_each_tile(s, [&](int64_t o, int64_t i0, int64_t width) {
    const int64_t base = o * s.n * s.inner + i0;
    if (width == 1 && s.inner == 1) {  // last dim: one contiguous row
      const T* xr = x + base;
      T* yr = y + base;
      if constexpr (std::is_same_v<T, float>) {
        // f32: three vectorised passes over a row that stays in cache (max, exp and sum, scale).
        float m = row_max(xr, s.n);
        if (std::isinf(m) && m < 0) m = 0;  // all -inf: keep exp(x - m) = 0 rather than NaN
        if constexpr (Log) {
          // (x - m) - log(sum), not x - (m + log(sum)): x - m is exact, the other rounds at |m|.
          const float ls = std::log(exp_shifted_total(xr, s.n, m));
          for (int64_t k = 0; k < s.n; ++k) yr[k] = (xr[k] - m) - ls;
        } else {
          scale_row(yr, s.n, 1.0f / exp_shifted_sum(xr, yr, s.n, m));
        }
        return;
      }
      A m = -std::numeric_limits<A>::infinity();
      for (int64_t k = 0; k < s.n; ++k) m = std::max(m, static_cast<A>(xr[k]));
      if (std::isinf(m) && m < 0) m = 0;
      A sum = 0;
      for (int64_t k = 0; k < s.n; ++k) sum += exp_approx(static_cast<A>(xr[k]) - m);
      if constexpr (Log) {
        const A ls = std::log(sum);
        for (int64_t k = 0; k < s.n; ++k) yr[k] = static_cast<T>((static_cast<A>(xr[k]) - m) - ls);
      } else {
        const A inv = A(1) / sum;
        for (int64_t k = 0; k < s.n; ++k) yr[k] = static_cast<T>(exp_approx(static_cast<A>(xr[k]) - m) * inv);
      }
      return;
    }
    A m[kInnerTile], sum[kInnerTile];
    for (int64_t i = 0; i < width; ++i) m[i] = -std::numeric_limits<A>::infinity(), sum[i] = 0;
    for (int64_t k = 0; k < s.n; ++k)
      for (int64_t i = 0; i < width; ++i) m[i] = std::max(m[i], static_cast<A>(x[base + k * s.inner + i]));
    for (int64_t i = 0; i < width; ++i)
      if (std::isinf(m[i]) && m[i] < 0) m[i] = 0;
    for (int64_t k = 0; k < s.n; ++k)
      for (int64_t i = 0; i < width; ++i) sum[i] += exp_approx(static_cast<A>(x[base + k * s.inner + i]) - m[i]);
    for (int64_t i = 0; i < width; ++i) {
      if constexpr (Log)
        sum[i] = std::log(sum[i]);
      else
        sum[i] = A(1) / sum[i];
    }
    for (int64_t k = 0; k < s.n; ++k) {
      const int64_t at = base + k * s.inner;
      for (int64_t i = 0; i < width; ++i) {
        const A v = static_cast<A>(x[at + i]);
        if constexpr (Log)
          y[at + i] = static_cast<T>((v - m[i]) - sum[i]);
        else
          y[at + i] = static_cast<T>(exp_approx(v - m[i]) * sum[i]);
      }
    }
  });
}

// softmax:     d_x = y * (d_y - sum(d_y * y))
// log_softmax: d_x = d_y - exp(y) * sum(d_y)
template <typename T, bool Log>
void backward_kernel(const T* y, const T* dy, T* dx, const DimSplit& s) {
  using A = acc_t<T>;
  for_each_tile(s, [&](int64_t o, int64_t i0, int64_t width) {
    const int64_t base = o * s.n * s.inner + i0;
    A dot[kInnerTile];
    for (int64_t i = 0; i < width; ++i) dot[i] = 0;
    for (int64_t k = 0; k < s.n; ++k) {
      const int64_t at = base + k * s.inner;
      for (int64_t i = 0; i < width; ++i) {
        if constexpr (Log)
          dot[i] += static_cast<A>(dy[at + i]);
        else
          dot[i] += static_cast<A>(dy[at + i]) * static_cast<A>(y[at + i]);
      }
    }
    for (int64_t k = 0; k < s.n; ++k) {
      const int64_t at = base + k * s.inner;
      for (int64_t i = 0; i < width; ++i) {
        const A yv = static_cast<A>(y[at + i]), g = static_cast<A>(dy[at + i]);
        if constexpr (Log)
          dx[at + i] = static_cast<T>(g - exp_approx(yv) * dot[i]);
        else
          dx[at + i] = static_cast<T>(yv * (g - dot[i]));
      }
    }
  });
}

template <bool Log>
Tensor forward(const Tensor& x, int64_t dim, const char* op) {
  Tensor xc = contiguous(x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const DimSplit s = split_at(x.shape(), dim);
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    softmax_kernel<T, Log>(xc.data<T>(), y.data<T>(), s);
  });
  return y;
}

template <bool Log>
Tensor backward(const Tensor& y, const Tensor& d_y, int64_t dim, const char* op) {
  Tensor yc = contiguous(y), gc = contiguous(d_y);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  const DimSplit s = split_at(y.shape(), dim);
  dispatch_floating(y.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    backward_kernel<T, Log>(yc.data<T>(), gc.data<T>(), dx.data<T>(), s);
  });
  return dx;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return forward<false>(x, dim, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return forward<true>(x, dim, "log_softmax"); }
Tensor softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim) {
  return backward<false>(y, d_y, dim, "softmax_backward");
}
Tensor log_softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim) {
  return backward<true>(y, d_y, dim, "log_softmax_backward");
}

}  // namespace gau::ops::cpu
