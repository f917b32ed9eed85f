#pragma once
// Backend norm kernels of core/ops/norm.h, in gau::ops::cpu (cpu/norm.cpp) and gau::ops::cuda
// (cuda/norm.cu). The three norms share one row kernel per backend, specialised by NormKind; the
// per-row formulas below are the ones both backends use (GAU_HD), so they cannot drift.
// Arguments are validated and made contiguous by norm.cpp.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/macros.h"
#include "core/ops/backend.h"
#include "core/ops/norm.h"
#include "core/tensor.h"

namespace gau::ops {

enum class NormKind { layer, rms, scale };

// rstd of a row from sq = sum_j (x_j - mean)^2 (layer) or sum_j x_j^2 (rms, scale).
template <NormKind K, typename A>
GAU_HD A norm_rstd(A sq, int64_t d, A eps) {
  using std::sqrt;
  if constexpr (K == NormKind::scale) {
    const A norm = sqrt(sq);
    return A(1) / (norm > eps ? norm : eps);
  } else {
    return A(1) / sqrt(sq / A(d) + eps);
  }
}

// The backward of a row is d_x_j = rstd (g_j - c1 - xhat_j c2), g = d_y w; from the row sums
// sum_g = sum_j g_j and sum_gx = sum_j g_j xhat_j (core/ops/norm.h has the derivation's result).
template <typename A>
struct NormCoefs {
  A c1, c2;
};
template <NormKind K, typename A>
GAU_HD NormCoefs<A> norm_coefs(A sum_g, A sum_gx, A rstd, int64_t d, A eps) {
  if constexpr (K == NormKind::layer) return {sum_g / A(d), sum_gx / A(d)};
  if constexpr (K == NormKind::rms) return {A(0), sum_gx / A(d)};
  // scale: a clamped row (rstd = 1 / eps) is linear in x, so it has no projection term.
  return {A(0), rstd >= A(1) / eps ? A(0) : sum_gx};
}

// Calls f with NormKind `kind` as a compile-time constant (std::integral_constant), so both
// backends specialise their row kernels on it.
template <typename F>
void dispatch_kind(NormKind kind, F&& f) {
  switch (kind) {
    case NormKind::layer:
      return f(std::integral_constant<NormKind, NormKind::layer>{});
    case NormKind::rms:
      return f(std::integral_constant<NormKind, NormKind::rms>{});
    case NormKind::scale:
      return f(std::integral_constant<NormKind, NormKind::scale>{});
  }
}

}  // namespace gau::ops

GAU_BACKEND_KERNELS(
    // x [rows, d] contiguous; weight [d] (scale: [1], required) or undefined; bias [d] or
    // undefined (layer only). Returns y [rows, d], rstd [rows] and, for layer, mean [rows]; the
    // statistics are in acc dtype (f32, f64 for f64 x).
    NormOutput norm_forward(NormKind kind, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
    // d_y, x [rows, d] contiguous; mean (layer), rstd [rows] from norm_forward. Returns d_x
    // [rows, d]; with param_grads also d_weight [d] and d_bias [d] in x's dtype,
    // except for scale, whose d_weight is the per-row sum_j d_y xhat [rows] in acc dtype (norm.cpp
    // sums it into d_g).
    NormGrads norm_backward(NormKind kind, const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                            const Tensor& rstd, double eps, bool param_grads);)
