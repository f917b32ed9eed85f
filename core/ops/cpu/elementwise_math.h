#pragma once
// Scalar math of the elementwise ops, chosen at compile time so that kernels have no per-element
// dispatch: with_op(op, f) turns a runtime enum into std::integral_constant for f.
// A is the arithmetic type (acc_t<T>: float for f32/bf16/f16, double for f64, the integer itself).
#include <cmath>
#include <type_traits>

#include "core/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/scalar_math.h"

namespace gau::ops::cpu {

template <auto V>
using op_c = std::integral_constant<decltype(V), V>;

template <typename F>
decltype(auto) with_op(Unary op, F&& f) {
  switch (op) {
    case Unary::neg:
      return f(op_c<Unary::neg>{});
    case Unary::exp:
      return f(op_c<Unary::exp>{});
    case Unary::log:
      return f(op_c<Unary::log>{});
    case Unary::sqrt:
      return f(op_c<Unary::sqrt>{});
    case Unary::rsqrt:
      return f(op_c<Unary::rsqrt>{});
    case Unary::abs:
      return f(op_c<Unary::abs>{});
    case Unary::tanh:
      return f(op_c<Unary::tanh>{});
    case Unary::sigmoid:
      return f(op_c<Unary::sigmoid>{});
    case Unary::relu:
      return f(op_c<Unary::relu>{});
    case Unary::relu2:
      return f(op_c<Unary::relu2>{});
    case Unary::silu:
      return f(op_c<Unary::silu>{});
    case Unary::gelu:
      return f(op_c<Unary::gelu>{});
    case Unary::erf:
      return f(op_c<Unary::erf>{});
    case Unary::laplace:
      return f(op_c<Unary::laplace>{});
  }
  GAU_FAIL("unary: unknown op ", static_cast<int>(op));
}

template <typename F>
decltype(auto) with_op(Binary op, F&& f) {
  switch (op) {
    case Binary::add:
      return f(op_c<Binary::add>{});
    case Binary::sub:
      return f(op_c<Binary::sub>{});
    case Binary::mul:
      return f(op_c<Binary::mul>{});
    case Binary::div:
      return f(op_c<Binary::div>{});
    case Binary::pow:
      return f(op_c<Binary::pow>{});
    case Binary::maximum:
      return f(op_c<Binary::maximum>{});
    case Binary::minimum:
      return f(op_c<Binary::minimum>{});
  }
  GAU_FAIL("binary: unknown op ", static_cast<int>(op));
}

template <typename F>
decltype(auto) with_op(Compare op, F&& f) {
  switch (op) {
    case Compare::eq:
      return f(op_c<Compare::eq>{});
    case Compare::ne:
      return f(op_c<Compare::ne>{});
    case Compare::lt:
      return f(op_c<Compare::lt>{});
    case Compare::le:
      return f(op_c<Compare::le>{});
    case Compare::gt:
      return f(op_c<Compare::gt>{});
    case Compare::ge:
      return f(op_c<Compare::ge>{});
  }
  GAU_FAIL("compare: unknown op ", static_cast<int>(op));
}

template <typename F>
decltype(auto) with_op(Activation act, F&& f) {
  switch (act) {
    case Activation::none:
      return f(op_c<Activation::none>{});
    case Activation::relu:
      return f(op_c<Activation::relu>{});
    case Activation::relu2:
      return f(op_c<Activation::relu2>{});
    case Activation::silu:
      return f(op_c<Activation::silu>{});
    case Activation::gelu:
      return f(op_c<Activation::gelu>{});
  }
  GAU_FAIL("bias_act: unknown activation ", static_cast<int>(act));
}

// f(x). silu, gelu, laplace and sigmoid are the shared formulas of core/ops/scalar_math.h.
template <Unary op, typename A>
inline A unary_fn(A x) {
  if constexpr (op == Unary::neg) return -x;
  if constexpr (op == Unary::exp) return std::exp(x);
  if constexpr (op == Unary::log) return std::log(x);
  if constexpr (op == Unary::sqrt) return std::sqrt(x);
  if constexpr (op == Unary::rsqrt) return A(1) / std::sqrt(x);
  if constexpr (op == Unary::abs) return x < A(0) ? -x : x;
  if constexpr (op == Unary::tanh) return std::tanh(x);
  if constexpr (op == Unary::sigmoid) return math::sigmoid(x);
  if constexpr (op == Unary::relu) return x > A(0) ? x : A(0);
  if constexpr (op == Unary::relu2) return x > A(0) ? x * x : A(0);
  if constexpr (op == Unary::silu) return math::silu(x);
  if constexpr (op == Unary::gelu) return math::gelu(x);
  if constexpr (op == Unary::erf) return std::erf(x);
  if constexpr (op == Unary::laplace) return math::laplace(x);
}

// f'(x).
template <Unary op, typename A>
inline A unary_grad(A x) {
  if constexpr (op == Unary::neg) return A(-1);
  if constexpr (op == Unary::exp) return std::exp(x);
  if constexpr (op == Unary::log) return A(1) / x;
  if constexpr (op == Unary::sqrt) return A(0.5) / std::sqrt(x);
  if constexpr (op == Unary::rsqrt) return A(-0.5) / (x * std::sqrt(x));
  if constexpr (op == Unary::abs) return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
  if constexpr (op == Unary::tanh) {
    A t = std::tanh(x);
    return A(1) - t * t;
  }
  if constexpr (op == Unary::sigmoid) {
    A s = math::sigmoid(x);
    return s * (A(1) - s);
  }
  if constexpr (op == Unary::relu) return x > A(0) ? A(1) : A(0);
  if constexpr (op == Unary::relu2) return x > A(0) ? A(2) * x : A(0);
  if constexpr (op == Unary::silu) return math::silu_grad(x);
  if constexpr (op == Unary::gelu) return math::gelu_grad(x);
  if constexpr (op == Unary::erf) return A(1.12837916709551257390) * std::exp(-x * x);  // 2/sqrt(pi)
  if constexpr (op == Unary::laplace) return math::laplace_grad(x);
}

template <Activation act>
constexpr Unary activation_unary() {
  if constexpr (act == Activation::relu) return Unary::relu;
  if constexpr (act == Activation::relu2) return Unary::relu2;
  if constexpr (act == Activation::silu) return Unary::silu;
  return Unary::gelu;
}

template <Activation act, typename A>
inline A activation_fn(A x) {
  if constexpr (act == Activation::none)
    return x;
  else
    return unary_fn<activation_unary<act>()>(x);
}

template <Activation act, typename A>
inline A activation_grad(A x) {
  if constexpr (act == Activation::none)
    return A(1);
  else
    return unary_grad<activation_unary<act>()>(x);
}

template <typename A>
inline bool is_nan(A a) {
  if constexpr (std::is_floating_point_v<A>)
    return a != a;
  else
    return false;
}

// a op b. maximum/minimum propagate NaN, like numpy and PyTorch.
template <Binary op, typename A>
inline A binary_fn(A a, A b) {
  if constexpr (op == Binary::add) return a + b;
  if constexpr (op == Binary::sub) return a - b;
  if constexpr (op == Binary::mul) return a * b;
  if constexpr (op == Binary::div) return a / b;
  if constexpr (op == Binary::pow) return std::pow(a, b);
  if constexpr (op == Binary::maximum) return (a > b || is_nan(a)) ? a : b;
  if constexpr (op == Binary::minimum) return (a < b || is_nan(a)) ? a : b;
}

template <Compare op, typename A>
inline bool compare_fn(A a, A b) {
  if constexpr (op == Compare::eq) return a == b;
  if constexpr (op == Compare::ne) return a != b;
  if constexpr (op == Compare::lt) return a < b;
  if constexpr (op == Compare::le) return a <= b;
  if constexpr (op == Compare::gt) return a > b;
  if constexpr (op == Compare::ge) return a >= b;
}

}  // namespace gau::ops::cpu

namespace gau::ops::cpu {

// neg and abs also make sense on integers; everything else needs a floating dtype.
template <typename T, Unary op>
constexpr bool unary_defined() {
  return std::is_floating_point_v<acc_t<T>> || op == Unary::neg || op == Unary::abs;
}

// Dispatch over compute types: f(type_tag<C>{}) with C = float for f32, bf16 and f16 (which the
// iteration converts to f32 blocks, elementwise_iter.h), double, int32_t, int64_t or bool.
template <typename F>
decltype(auto) dispatch_compute(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32:
    case DType::bf16:
    case DType::f16:
      return f(type_tag<float>{});
    case DType::f64:
      return f(type_tag<double>{});
    case DType::i32:
      return f(type_tag<int32_t>{});
    case DType::i64:
      return f(type_tag<int64_t>{});
    case DType::b8:
      return f(type_tag<bool>{});
  }
  GAU_FAIL(op, ": unknown dtype");
}

// The compute types of the dtypes with arithmetic (every dtype but bool).
template <typename F>
void dispatch_arith(DType t, const char* op, F&& f) {
  GAU_CHECK(t != DType::b8, op, ": not defined for bool tensors");
  dispatch_compute(t, op, [&](auto tag) {
    if constexpr (!std::is_same_v<typename decltype(tag)::type, bool>) f(tag);
  });
}

// The compute types of the floating dtypes.
template <typename F>
void dispatch_floating_compute(DType t, const char* op, F&& f) {
  GAU_CHECK(is_floating(t), op, ": expected a floating dtype (f32, f64, bf16, f16), got ", dtype_name(t));
  dispatch_compute(t, op, [&](auto tag) {
    if constexpr (std::is_floating_point_v<typename decltype(tag)::type>) f(tag);
  });
}

}  // namespace gau::ops::cpu
