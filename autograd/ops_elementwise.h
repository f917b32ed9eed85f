#pragma once
// Differentiable elementwise ops (kernels: core/ops/elementwise.h). Binary ops broadcast like
// numpy; the gradient of a broadcast input is summed back to its shape (ops::sum_to).
//
//   y = f(x):        d_x = d_y * f'(x)
//   y = a + b:       d_a = d_y,  d_b = d_y
//   y = a - b:       d_a = d_y,  d_b = -d_y
//   y = a * b:       d_a = d_y b,  d_b = d_y a
//   y = a / b:       d_a = d_y / b,  d_b = -d_y a / b^2
//   y = a ^ b:       d_a = d_y b a^(b-1),  d_b = d_y y log(a)   (0 where a == 0)
//   y = max(a, b):   d_y goes to the larger input, half to each on ties (min likewise)
//
// Call them qualified (gau::unary(ops::Unary::exp, x)) when passing an ops:: enum: ADL would also
// find the grad-free ops:: kernel of the same name.
#include "core/ops/elementwise.h"
#include "core/rng.h"  // before gau::log/sqrt below exist: its inline Box-Muller calls log/sqrt unqualified
#include "core/tensor.h"

namespace gau {

// ---- unary, x [...] -> [...] ----
Tensor unary(ops::Unary op, const Tensor& x);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor relu2(const Tensor& x);
Tensor silu(const Tensor& x);
Tensor gelu(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor laplace(const Tensor& x);

// ---- binary with broadcasting: a [...], b [...] -> broadcast shape ----
Tensor binary(ops::Binary op, const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// ---- with a scalar (it takes a's dtype) ----
Tensor add(const Tensor& a, double s);
Tensor sub(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);
Tensor div(const Tensor& a, double s);
Tensor pow(const Tensor& a, double s);
Tensor maximum(const Tensor& a, double s);  // clamp below: max(a, s)
Tensor minimum(const Tensor& a, double s);  // clamp above: min(a, s)
Tensor rsub(double s, const Tensor& a);     // s - a
Tensor rdiv(double s, const Tensor& a);     // s / a

Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);

// ---- selection ----
// cond [...] bool ? a : b, all three broadcast. Differentiable in a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x [...] with x[mask] = value, mask bool broadcasting to x. d_x = d_y with masked elements zeroed.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// ---- fused ----
// act(x + bias), x [..., d], bias [d]. PyTorch: act(x + bias)
Tensor bias_act(const Tensor& x, const Tensor& bias, ops::Activation act);
// x * gamma + beta, x [..., d], gamma [d], beta [d]. PyTorch: x * gamma + beta
Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta);

}  // namespace gau
