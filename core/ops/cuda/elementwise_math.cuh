#pragma once
// Device scalar math of the elementwise ops: the same formulas as core/ops/cpu/elementwise_math.h
// (so CUDA matches the CPU to rounding; sigmoid, SiLU, GELU and Laplace are the shared ones of
// core/ops/scalar_math.h), selected by a runtime op code. The switch is uniform
// across a launch, so it costs no divergence, and it keeps the number of kernel instantiations
// (and nvcc time) small.
#include <cuda_runtime.h>

#include <type_traits>

#include "core/ops/elementwise.h"
#include "core/ops/scalar_math.h"

namespace gau::ops::cuda {

template <typename A>
__device__ __forceinline__ bool is_nan_value(A a) {
  if constexpr (std::is_floating_point_v<A>) return a != a;
  else return false;
}

// f(x); integers only reach neg and abs (the host side rejects the rest).
template <typename A>
__device__ A unary_fn(Unary op, A x) {
  if constexpr (std::is_integral_v<A>) {
    return op == Unary::neg ? A(-x) : (x < A(0) ? A(-x) : x);
  } else {
    switch (op) {
      case Unary::neg: return -x;
      case Unary::exp: return ::exp(x);
      case Unary::log: return ::log(x);
      case Unary::sqrt: return ::sqrt(x);
      case Unary::rsqrt: return A(1) / ::sqrt(x);
      case Unary::abs: return x < A(0) ? -x : x;
      case Unary::tanh: return ::tanh(x);
      case Unary::sigmoid: return math::sigmoid(x);
      case Unary::relu: return x > A(0) ? x : A(0);
      case Unary::relu2: return x > A(0) ? x * x : A(0);
      case Unary::silu: return math::silu(x);
      case Unary::gelu: return math::gelu(x);
      case Unary::erf: return ::erf(x);
      case Unary::laplace: return math::laplace(x);
    }
    return x;
  }
}

// f'(x).
template <typename A>
__device__ A unary_grad(Unary op, A x) {
  if constexpr (std::is_integral_v<A>) {
    return op == Unary::neg ? A(-1) : (x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0)));
  } else {
    switch (op) {
      case Unary::neg: return A(-1);
      case Unary::exp: return ::exp(x);
      case Unary::log: return A(1) / x;
      case Unary::sqrt: return A(0.5) / ::sqrt(x);
      case Unary::rsqrt: return A(-0.5) / (x * ::sqrt(x));
      case Unary::abs: return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
      case Unary::tanh: {
        A t = ::tanh(x);
        return A(1) - t * t;
      }
      case Unary::sigmoid: {
        A s = math::sigmoid(x);
        return s * (A(1) - s);
      }
      case Unary::relu: return x > A(0) ? A(1) : A(0);
      case Unary::relu2: return x > A(0) ? A(2) * x : A(0);
      case Unary::silu: return math::silu_grad(x);
      case Unary::gelu: return math::gelu_grad(x);
      case Unary::erf: return A(1.12837916709551257390) * ::exp(-x * x);
      case Unary::laplace: return math::laplace_grad(x);
    }
    return A(0);
  }
}

__host__ __device__ constexpr Unary activation_unary(Activation act) {
  return act == Activation::relu ? Unary::relu
         : act == Activation::relu2 ? Unary::relu2
         : act == Activation::silu ? Unary::silu
                                   : Unary::gelu;
}

template <typename A>
__device__ __forceinline__ A activation_fn(Activation act, A x) {
  return act == Activation::none ? x : unary_fn(activation_unary(act), x);
}

template <typename A>
__device__ __forceinline__ A activation_grad(Activation act, A x) {
  return act == Activation::none ? A(1) : unary_grad(activation_unary(act), x);
}

// a op b; maximum/minimum propagate NaN like the CPU backend. div/pow reach integers never.
template <typename A>
__device__ A binary_fn(Binary op, A a, A b) {
  switch (op) {
    case Binary::add: return a + b;
    case Binary::sub: return a - b;
    case Binary::mul: return a * b;
    case Binary::div:
      if constexpr (std::is_integral_v<A>) return b == A(0) ? A(0) : A(a / b);
      else return a / b;
    case Binary::pow:
      if constexpr (std::is_integral_v<A>) return A(::pow(double(a), double(b)));
      else return ::pow(a, b);
    case Binary::maximum: return (a > b || is_nan_value(a)) ? a : b;
    case Binary::minimum: return (a < b || is_nan_value(a)) ? a : b;
  }
  return a;
}

template <typename A>
__device__ __forceinline__ bool compare_fn(Compare op, A a, A b) {
  switch (op) {
    case Compare::eq: return a == b;
    case Compare::ne: return a != b;
    case Compare::lt: return a < b;
    case Compare::le: return a <= b;
    case Compare::gt: return a > b;
    case Compare::ge: return a >= b;
  }
  return false;
}

}  // namespace gau::ops::cuda
