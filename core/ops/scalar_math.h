#pragma once
// Scalar formulas that several backends must compute identically, written once. GAU_HD: the CPU
// elementwise ops (core/ops/cpu/elementwise_math.h), the CUDA elementwise ops
// (core/ops/cuda/elementwise_math.cuh) and both attention backends (layers/attention/cpu,
// layers/attention/cuda) include this header, so a formula cannot drift between them.
// A is the arithmetic type: float (also for bf16/f16 storage) or double.
#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "core/rng.h"

namespace gau::ops::math {

// Block-scope using-declarations: gau::ops has Tensor overloads of exp and erf, and on the device
// std::exp(float) / std::erf(float) are CUDA's expf / erff.
template <typename A>
GAU_HD A sigmoid(A x) {
  using std::exp;
  return A(1) / (A(1) + exp(-x));
}

// x sigmoid(x) and its derivative s (1 + x (1 - s)), s = sigmoid(x).
template <typename A>
GAU_HD A silu(A x) {
  return x * sigmoid(x);
}
template <typename A>
GAU_HD A silu_grad(A x) {
  const A s = sigmoid(x);
  return s * (A(1) + x * (A(1) - s));
}

// Exact GELU x Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) and its derivative Phi(x) + x phi(x).
template <typename A>
GAU_HD A gelu(A x) {
  using std::erf;
  return A(0.5) * x * (A(1) + erf(x * A(0.70710678118654752440)));
}
template <typename A>
GAU_HD A gelu_grad(A x) {
  using std::erf;
  using std::exp;
  return A(0.5) * (A(1) + erf(x * A(0.70710678118654752440))) +
         x * A(0.39894228040143267794) * exp(A(-0.5) * x * x);  // 1 / sqrt(2 pi)
}

// Laplace attention kernel (docs/model.md, "GAU"): the Normal(mu, sigma) CDF
//   0.5 (1 + erf((x - mu) / (sigma sqrt 2))),  mu = sqrt(1/2), sigma = sqrt(1/(4 pi)),
// where 1 / (sigma sqrt 2) = sqrt(2 pi). Its derivative is the density
//   exp(-(x - mu)^2 / (2 sigma^2)) / (sigma sqrt(2 pi)) = sqrt(2) exp(-2 pi (x - mu)^2).
template <typename A>
GAU_HD A laplace(A x) {
  using std::erf;
  return A(0.5) * (A(1) + erf((x - A(0.70710678118654752440)) * A(2.50662827463100050242)));
}
template <typename A>
GAU_HD A laplace_grad(A x) {
  using std::exp;
  const A u = x - A(0.70710678118654752440);
  return A(1.41421356237309504880) * exp(A(-6.28318530717958647692) * u * u);
}

// Dropout keeps element `element` of the Philox stream (seed, offset) when its uniform
// philox_uniform(seed, offset, element) is >= p. Compared in float: the uniform is a float with 24
// random bits. dropout_keep_word takes the element's Philox word, for callers that draw a block of
// four words once and test each.
GAU_HD bool dropout_keep_word(uint32_t word, float p) { return uint_to_unit_float(word) >= p; }
GAU_HD bool dropout_keep(uint64_t seed, uint64_t offset, uint64_t element, float p) {
  return dropout_keep_word(philox4x32_10(seed, offset + element / 4).v[element % 4], p);
}

}  // namespace gau::ops::math
