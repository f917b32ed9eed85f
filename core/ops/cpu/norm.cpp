// CPU norm kernels: OpenMP over rows, each row in two or three passes that stay in cache and
// vectorise (omp simd reductions). Parameter gradients go into one partial sum per thread over a
// fixed split of the rows, then a reduce in thread order: deterministic for a fixed thread count.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/dispatch.h"
#include "core/ops/cpu/parallel.h"
#include "core/ops/norm_kernels.h"

namespace gau::ops::cpu {
namespace {

template <typename T>
using A_of = acc_t<T>;

// y = (x - mean) rstd w + b, row by row; mean (layer only) and rstd saved.
//   torch: F.layer_norm(x, (d,), w, b, eps) / F.rms_norm(x, (d,), w, eps) / g * x / x.norm(-1).clamp(eps)
template <NormKind K, typename T>
void forward_kernel(const T* x, const T* w, const T* b, T* y, A_of<T>* mean, A_of<T>* rstd, int64_t rows, int64_t d,
                    A_of<T> eps) {
  using A = A_of<T>;
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * d;
    T* yr = y + r * d;
    A m = 0;
    if constexpr (K == NormKind::layer) {
      A s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < d; ++j) s += static_cast<A>(xr[j]);
      m = s / A(d);
      mean[r] = m;
    }
    A sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < d; ++j) {
      const A v = static_cast<A>(xr[j]) - m;
      sq += v * v;
    }
    const A rs = norm_rstd<K>(sq, d, eps);
    rstd[r] = rs;
    if constexpr (K == NormKind::scale) {
      const A scale = rs * static_cast<A>(w[0]);
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) yr[j] = static_cast<T>(static_cast<A>(xr[j]) * scale);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) {
        const A wj = w ? static_cast<A>(w[j]) : A(1), bj = b ? static_cast<A>(b[j]) : A(0);
        yr[j] = static_cast<T>((static_cast<A>(xr[j]) - m) * rs * wj + bj);
      }
    }
  }
}

// d_x = rstd (g - c1 - xhat c2), g = d_y w (norm_coefs); per-thread partials of d_w = sum d_y xhat
// and d_b = sum d_y over the thread's rows, or (scale) the row sums sum_j d_y xhat in row_dot.
template <NormKind K, typename T>
void norm_backward_kernel(const T* dy, const T* x, const T* w, const A_of<T>* mean, const A_of<T>* rstd, T* dx,
                          A_of<T>* partial, A_of<T>* row_dot, int64_t threads, int64_t rows, int64_t d, A_of<T> eps) {
  using A = A_of<T>;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t t = 0; t < threads; ++t) {
    A* dw = partial ? partial + t * 2 * d : nullptr;
    A* db = dw ? dw + d : nullptr;
    for (int64_t r = rows * t / threads; r < rows * (t + 1) / threads; ++r) {
      const T* xr = x + r * d;
      const T* gr = dy + r * d;
      T* dr = dx + r * d;
      const A m = K == NormKind::layer ? mean[r] : A(0), rs = rstd[r];
      A sum_g = 0, sum_gx = 0;  // scale: sum_gx is sum_j d_y xhat, times g below
#pragma omp simd reduction(+ : sum_g, sum_gx)
      for (int64_t j = 0; j < d; ++j) {
        const A xh = (static_cast<A>(xr[j]) - m) * rs;
        const A g = static_cast<A>(gr[j]) * (K != NormKind::scale && w ? static_cast<A>(w[j]) : A(1));
        sum_g += g;
        sum_gx += g * xh;
      }
      if constexpr (K == NormKind::scale) {
        if (row_dot) row_dot[r] = sum_gx;
        sum_gx *= static_cast<A>(w[0]);
      }
      const NormCoefs<A> c = norm_coefs<K>(sum_g, sum_gx, rs, d, eps);
      const A w0 = K == NormKind::scale ? static_cast<A>(w[0]) : A(1);
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) {
        const A xh = (static_cast<A>(xr[j]) - m) * rs;
        const A g = static_cast<A>(gr[j]) * (K == NormKind::scale ? w0 : (w ? static_cast<A>(w[j]) : A(1)));
        dr[j] = static_cast<T>(rs * (g - c.c1 - xh * c.c2));
      }
      if constexpr (K != NormKind::scale) {
        if (!dw) continue;
#pragma omp simd
        for (int64_t j = 0; j < d; ++j) {
          const A gj = static_cast<A>(gr[j]);
          dw[j] += gj * (static_cast<A>(xr[j]) - m) * rs;
          db[j] += gj;
        }
      }
    }
  }
}

template <typename T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

NormOutput norm_forward(NormKind kind, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const int64_t rows = x.size(0), d = x.size(1);
  const DType acc = x.dtype() == DType::f64 ? DType::f64 : DType::f32;
  NormOutput out{Tensor::empty(x.shape(), x.dtype(), x.device()),  // [rows, d]
                 kind == NormKind::layer ? Tensor::empty({rows}, acc, x.device()) : Tensor(),
                 Tensor::empty({rows}, acc, x.device())};
  dispatch_floating(x.dtype(), "norm_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    dispatch_kind(kind, [&](auto k) {
      forward_kernel<decltype(k)::value, T>(x.data<T>(), ptr_or_null<T>(weight), ptr_or_null<T>(bias), out.y.data<T>(),
                                            out.mean.defined() ? out.mean.data<A>() : nullptr, out.rstd.data<A>(), rows,
                                            d, static_cast<A>(eps));
    });
  });
  return out;
}

NormGrads norm_backward(NormKind kind, const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                        const Tensor& rstd, double eps, bool param_grads) {
  const int64_t rows = x.size(0), d = x.size(1);
  const DType acc = x.dtype() == DType::f64 ? DType::f64 : DType::f32;
  // One thread per kParallelMin elements, at most the team's size; none inside another region.
  const int64_t threads =
      omp_in_parallel() ? 1 : std::clamp<int64_t>(rows * d / kParallelMin, 1, std::max(1, omp_get_max_threads()));
  NormGrads g{Tensor::empty(x.shape(), x.dtype(), x.device()), Tensor(), Tensor()};  // d_x [rows, d]
  const bool per_dim = param_grads && kind != NormKind::scale;
  if (param_grads && kind == NormKind::scale) g.d_weight = Tensor::empty({rows}, acc, x.device());
  if (per_dim) {
    g.d_weight = Tensor::empty({d}, x.dtype(), x.device());
    g.d_bias = Tensor::empty({d}, x.dtype(), x.device());
  }
  dispatch_floating(x.dtype(), "norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    std::vector<A> partial(per_dim ? static_cast<size_t>(threads * 2 * d) : 0, A(0));  // [threads, 2, d]
    dispatch_kind(kind, [&](auto k) {
      norm_backward_kernel<decltype(k)::value, T>(
          d_y.data<T>(), x.data<T>(), ptr_or_null<T>(weight), mean.defined() ? mean.data<A>() : nullptr, rstd.data<A>(),
          g.d_x.data<T>(), per_dim ? partial.data() : nullptr,
          param_grads && kind == NormKind::scale ? g.d_weight.data<A>() : nullptr, threads, rows, d,
          static_cast<A>(eps));
    });
    if (!per_dim) return;
    T* dw = g.d_weight.data<T>();
    T* db = g.d_bias.data<T>();
    for (int64_t j = 0; j < 2 * d; ++j) {
      A s = 0;
      for (int64_t t = 0; t < threads; ++t) s += partial[t * 2 * d + j];
      (j < d ? dw[j] : db[j - d]) = static_cast<T>(s);
    }
  });
  return g;
}

}  // namespace gau::ops::cpu
