#include "autograd/ops_elementwise.h"

#include "autograd/ops_util.h"
#include "core/ops/factory.h"
#include "core/ops/reduce.h"

namespace gau {

using autograd::Context;
using autograd::Grads;
using autograd::reduce_to;
using ops::Binary;
using ops::Compare;

// ---- unary ----

Tensor unary(ops::Unary op, const Tensor& x) {
  Tensor y = ops::unary(op, x);
  if (!autograd::needs_record({x})) return y;
  return autograd::record(ops::unary_name(op), {x}, y, {x}, [op](Context& ctx, const Grads& d) {
    return Grads{ops::unary_backward(op, ctx.saved(0), d[0])};
  });
}

Tensor neg(const Tensor& x) { return gau::unary(ops::Unary::neg, x); }
Tensor exp(const Tensor& x) { return gau::unary(ops::Unary::exp, x); }
Tensor log(const Tensor& x) { return gau::unary(ops::Unary::log, x); }
Tensor sqrt(const Tensor& x) { return gau::unary(ops::Unary::sqrt, x); }
Tensor rsqrt(const Tensor& x) { return gau::unary(ops::Unary::rsqrt, x); }
Tensor abs(const Tensor& x) { return gau::unary(ops::Unary::abs, x); }
Tensor tanh(const Tensor& x) { return gau::unary(ops::Unary::tanh, x); }
Tensor sigmoid(const Tensor& x) { return gau::unary(ops::Unary::sigmoid, x); }
Tensor relu(const Tensor& x) { return gau::unary(ops::Unary::relu, x); }
Tensor relu2(const Tensor& x) { return gau::unary(ops::Unary::relu2, x); }
Tensor silu(const Tensor& x) { return gau::unary(ops::Unary::silu, x); }
Tensor gelu(const Tensor& x) { return gau::unary(ops::Unary::gelu, x); }
Tensor erf(const Tensor& x) { return gau::unary(ops::Unary::erf, x); }
Tensor laplace(const Tensor& x) { return gau::unary(ops::Unary::laplace, x); }

// ---- binary ----

namespace {

// d_y routed to `a` of max(a, b) (or min with lose = gt): zero where a loses, half on ties.
Tensor route_extremum(const Tensor& d_y, const Tensor& a_vs_b_tie, const Tensor& a_loses) {
  Tensor split = ops::where(a_vs_b_tie, ops::mul(d_y, 0.5), d_y);
  return ops::masked_fill(split, a_loses, 0.0);
}

Grads binary_backward(Binary op, Context& ctx, const Tensor& d_y) {
  const bool need_a = ctx.needs_input_grad(0), need_b = ctx.needs_input_grad(1);
  Tensor a = ctx.saved(0), b = ctx.saved(1);
  Tensor d_a, d_b;
  switch (op) {
    case Binary::add:
      d_a = d_y;
      if (need_b) d_b = d_y;
      break;
    case Binary::sub:
      d_a = d_y;
      if (need_b) d_b = ops::neg(d_y);
      break;
    case Binary::mul:
      if (need_a) d_a = ops::mul(d_y, b);
      if (need_b) d_b = ops::mul(d_y, a);
      break;
    case Binary::div:
      if (need_a) d_a = ops::div(d_y, b);
      if (need_b) d_b = ops::neg(ops::div(ops::mul(d_y, a), ops::mul(b, b)));
      break;
    case Binary::pow: {
      if (need_a) d_a = ops::mul(ops::mul(d_y, b), ops::pow(a, ops::add(b, -1.0)));
      if (need_b) {
        Tensor t = ops::mul(ops::mul(d_y, ops::pow(a, b)), ops::log(a));
        d_b = ops::masked_fill(t, ops::compare_scalar(Compare::eq, a, 0.0), 0.0);
      }
      break;
    }
    case Binary::maximum:
    case Binary::minimum: {
      Tensor tie = ops::compare(Compare::eq, a, b);
      Compare a_loses = op == Binary::maximum ? Compare::lt : Compare::gt;
      Compare b_loses = op == Binary::maximum ? Compare::gt : Compare::lt;
      if (need_a) d_a = route_extremum(d_y, tie, ops::compare(a_loses, a, b));
      if (need_b) d_b = route_extremum(d_y, tie, ops::compare(b_loses, a, b));
      break;
    }
  }
  if (!need_a) d_a = Tensor();
  return {reduce_to(d_a, a.shape()), reduce_to(d_b, b.shape())};
}

// Scalar ops: y = op(a, s); returns d_a.
Tensor scalar_backward(Binary op, const Tensor& a, double s, const Tensor& d_y) {
  switch (op) {
    case Binary::add:
    case Binary::sub: return d_y;
    case Binary::mul: return ops::mul(d_y, s);
    case Binary::div: return ops::binary_scalar(Binary::div, d_y, s);
    case Binary::pow:
      if (s == 0) return ops::zeros_like(d_y);
      return ops::mul(ops::mul(ops::binary_scalar(Binary::pow, a, s - 1), d_y), s);
    case Binary::maximum:
    case Binary::minimum: {
      Tensor tie = ops::compare_scalar(Compare::eq, a, s);
      Tensor loses = ops::compare_scalar(op == Binary::maximum ? Compare::lt : Compare::gt, a, s);
      return route_extremum(d_y, tie, loses);
    }
  }
  GAU_FAIL("scalar_backward: unknown op");
}

Tensor binary_with_scalar(Binary op, const Tensor& a, double s) {
  Tensor y = ops::binary_scalar(op, a, s);
  if (!autograd::needs_record({a})) return y;
  std::string name = std::string(ops::binary_name(op)) + "_scalar";
  return autograd::record(name, {a}, y, {a}, [op, s](Context& ctx, const Grads& d) {
    return Grads{scalar_backward(op, ctx.saved(0), s, d[0])};
  });
}

}  // namespace

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  Tensor y = ops::binary(op, a, b);
  if (!autograd::needs_record({a, b})) return y;
  // add and sub need only the shapes, but saving costs nothing: the tensors exist anyway.
  return autograd::record(ops::binary_name(op), {a, b}, y, {a, b},
                          [op](Context& ctx, const Grads& d) { return binary_backward(op, ctx, d[0]); });
}

Tensor add(const Tensor& a, const Tensor& b) { return gau::binary(Binary::add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return gau::binary(Binary::sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return gau::binary(Binary::mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return gau::binary(Binary::div, a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return gau::binary(Binary::pow, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return gau::binary(Binary::maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return gau::binary(Binary::minimum, a, b); }

Tensor add(const Tensor& a, double s) { return binary_with_scalar(Binary::add, a, s); }
Tensor sub(const Tensor& a, double s) { return binary_with_scalar(Binary::sub, a, s); }
Tensor mul(const Tensor& a, double s) { return binary_with_scalar(Binary::mul, a, s); }
Tensor div(const Tensor& a, double s) { return binary_with_scalar(Binary::div, a, s); }
Tensor pow(const Tensor& a, double s) { return binary_with_scalar(Binary::pow, a, s); }
Tensor maximum(const Tensor& a, double s) { return binary_with_scalar(Binary::maximum, a, s); }
Tensor minimum(const Tensor& a, double s) { return binary_with_scalar(Binary::minimum, a, s); }

Tensor rsub(double s, const Tensor& a) {
  Tensor y = ops::add(ops::neg(a), s);
  if (!autograd::needs_record({a})) return y;
  return autograd::record("rsub_scalar", {a}, y, {},
                          [](Context&, const Grads& d) { return Grads{ops::neg(d[0])}; });
}

Tensor rdiv(double s, const Tensor& a) {
  Tensor y = ops::div(ops::full_like(a, s), a);
  if (!autograd::needs_record({a})) return y;
  // d_a = -d_y s / a^2 = -d_y y / a
  return autograd::record("rdiv_scalar", {a}, y, {a, y}, [](Context& ctx, const Grads& d) {
    return Grads{ops::neg(ops::div(ops::mul(d[0], ctx.saved(1)), ctx.saved(0)))};
  });
}

Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double s) { return add(a, s); }
Tensor operator-(const Tensor& a, double s) { return sub(a, s); }
Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
Tensor operator/(const Tensor& a, double s) { return div(a, s); }
Tensor operator+(double s, const Tensor& a) { return add(a, s); }
Tensor operator-(double s, const Tensor& a) { return rsub(s, a); }
Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
Tensor operator/(double s, const Tensor& a) { return rdiv(s, a); }

// ---- selection ----

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor y = ops::where(cond, a, b);
  if (!autograd::needs_record({a, b})) return y;
  Shape a_shape = a.shape(), b_shape = b.shape();
  return autograd::record("where", {a, b}, y, {cond}, [a_shape, b_shape](Context& ctx, const Grads& d) {
    Tensor cond = ctx.saved(0);
    Tensor d_a, d_b;
    if (ctx.needs_input_grad(0)) d_a = reduce_to(ops::where(cond, d[0], ops::zeros_like(d[0])), a_shape);
    if (ctx.needs_input_grad(1)) d_b = reduce_to(ops::masked_fill(d[0], cond, 0.0), b_shape);
    return Grads{d_a, d_b};
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor y = ops::masked_fill(x, mask, value);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("masked_fill", {x}, y, {mask}, [](Context& ctx, const Grads& d) {
    return Grads{ops::masked_fill(d[0], ctx.saved(0), 0.0)};
  });
}

// ---- fused ----

Tensor bias_act(const Tensor& x, const Tensor& bias, ops::Activation act) {
  Tensor y = ops::bias_act(x, bias, act);
  if (!autograd::needs_record({x, bias})) return y;
  return autograd::record("bias_act", {x, bias}, y, {x, bias}, [act](Context& ctx, const Grads& d) {
    Tensor x = ctx.saved(0), bias = ctx.saved(1);
    Tensor d_pre = ops::bias_act_backward(x, bias, act, d[0]);  // d(x + bias)
    Tensor d_bias = ctx.needs_input_grad(1) ? reduce_to(d_pre, bias.shape()) : Tensor();
    return Grads{ctx.needs_input_grad(0) ? d_pre : Tensor(), d_bias};
  });
}

Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  Tensor y = ops::scale_offset(x, gamma, beta);
  if (!autograd::needs_record({x, gamma, beta})) return y;
  Shape beta_shape = beta.shape();
  return autograd::record("scale_offset", {x, gamma, beta}, y, {x, gamma}, [beta_shape](Context& ctx, const Grads& d) {
    Tensor x = ctx.saved(0), gamma = ctx.saved(1);
    Tensor d_x = ctx.needs_input_grad(0) ? ops::mul(d[0], gamma) : Tensor();
    Tensor d_gamma = ctx.needs_input_grad(1) ? reduce_to(ops::mul(d[0], x), gamma.shape()) : Tensor();
    Tensor d_beta = ctx.needs_input_grad(2) ? reduce_to(d[0], beta_shape) : Tensor();
    return Grads{d_x, d_gamma, d_beta};
  });
}

}  // namespace gau
