#pragma once
// Elementwise ops with numpy broadcasting. Inputs must share dtype and device (errors name the op,
// shapes, dtypes and devices); arithmetic runs in acc_t<T> (f32 for bf16/f16, f64 for f64).
#include "core/tensor.h"

namespace gau::ops {

enum class Unary {
  neg, exp, log, sqrt, rsqrt, abs, tanh, sigmoid,
  relu,   // max(x, 0)
  relu2,  // max(x, 0)^2
  silu,   // x * sigmoid(x)
  gelu,   // exact: 0.5 x (1 + erf(x / sqrt(2)))
  erf,
  laplace,  // 0.5 (1 + erf((x - mu) / (sigma sqrt 2))), mu = sqrt(1/2), sigma = sqrt(1/(4 pi))
};
const char* unary_name(Unary op);

Tensor unary(Unary op, const Tensor& x);
// d_x = d_y * f'(x): the derivative kernel autograd uses (x is the op's input).
Tensor unary_backward(Unary op, const Tensor& x, const Tensor& d_y);

inline Tensor neg(const Tensor& x) { return unary(Unary::neg, x); }
inline Tensor exp(const Tensor& x) { return unary(Unary::exp, x); }
inline Tensor log(const Tensor& x) { return unary(Unary::log, x); }
inline Tensor sqrt(const Tensor& x) { return unary(Unary::sqrt, x); }
inline Tensor rsqrt(const Tensor& x) { return unary(Unary::rsqrt, x); }
inline Tensor abs(const Tensor& x) { return unary(Unary::abs, x); }
inline Tensor tanh(const Tensor& x) { return unary(Unary::tanh, x); }
inline Tensor sigmoid(const Tensor& x) { return unary(Unary::sigmoid, x); }
inline Tensor relu(const Tensor& x) { return unary(Unary::relu, x); }
inline Tensor relu2(const Tensor& x) { return unary(Unary::relu2, x); }
inline Tensor silu(const Tensor& x) { return unary(Unary::silu, x); }
inline Tensor gelu(const Tensor& x) { return unary(Unary::gelu, x); }
inline Tensor erf(const Tensor& x) { return unary(Unary::erf, x); }

enum class Binary { add, sub, mul, div, pow, maximum, minimum };
const char* binary_name(Binary op);
Tensor binary(Binary op, const Tensor& a, const Tensor& b);
// a op scalar (the scalar takes a's dtype).
Tensor binary_scalar(Binary op, const Tensor& a, double s);
// a = a op b, in place; b broadcasts to a's shape. Bumps a's version.
void binary_(Binary op, const Tensor& a, const Tensor& b);
void binary_scalar_(Binary op, const Tensor& a, double s);

inline Tensor add(const Tensor& a, const Tensor& b) { return binary(Binary::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(Binary::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(Binary::mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(Binary::div, a, b); }
inline Tensor pow(const Tensor& a, const Tensor& b) { return binary(Binary::pow, a, b); }
inline Tensor maximum(const Tensor& a, const Tensor& b) { return binary(Binary::maximum, a, b); }
inline Tensor minimum(const Tensor& a, const Tensor& b) { return binary(Binary::minimum, a, b); }
inline Tensor add(const Tensor& a, double s) { return binary_scalar(Binary::add, a, s); }
inline Tensor mul(const Tensor& a, double s) { return binary_scalar(Binary::mul, a, s); }
inline Tensor pow(const Tensor& a, double s) { return binary_scalar(Binary::pow, a, s); }
// a += alpha * b (b broadcast to a), in place.
void axpy_(const Tensor& a, const Tensor& b, double alpha);

// Comparisons give bool tensors.
enum class Compare { eq, ne, lt, le, gt, ge };
Tensor compare(Compare op, const Tensor& a, const Tensor& b);
Tensor compare_scalar(Compare op, const Tensor& a, double s);

// cond ? a : b with broadcasting over all three; cond is bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x with x[mask] = value; mask is bool and broadcasts to x.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// ---- fused kernels layers need ----
enum class Activation { none, relu, relu2, silu, gelu };
// act(x + bias), bias [last dim of x]. PyTorch: act(x + bias)
Tensor bias_act(const Tensor& x, const Tensor& bias, Activation act);
// d_x (= d_bias before reduction) for bias_act: d_y * act'(x + bias).
Tensor bias_act_backward(const Tensor& x, const Tensor& bias, Activation act, const Tensor& d_y);
// x * gamma + beta, gamma and beta [last dim of x]. PyTorch: x * gamma + beta
Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta);

}  // namespace gau::ops
