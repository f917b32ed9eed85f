// CPU unary ops, their derivatives and the fused bias + activation.
#include <type_traits>

#include "core/ops/cpu/elementwise.h"
#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"
#include "core/ops/cpu/vec_math.h"

namespace gau::ops::cpu {

namespace {

// neg and abs also make sense on integers; everything else needs a floating dtype.
template <typename T, Unary op>
constexpr bool unary_defined() {
  return std::is_floating_point_v<acc_t<T>> || op == Unary::neg || op == Unary::abs;
}

// y = exp(x) for f32 with the vectorised polynomial (core/ops/cpu/vec_math.h) on unit-stride runs.
void exp_f32(const StridedIter& it) {
  it.run([](char* const* p, const int64_t* s, int64_t n) {
    if (s[0] == int64_t{sizeof(float)} && s[1] == int64_t{sizeof(float)}) {
      exp_row(reinterpret_cast<const float*>(p[1]), reinterpret_cast<float*>(p[0]), n);
      return;
    }
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<float*>(p[0] + i * s[0]) = exp_approx(*reinterpret_cast<const float*>(p[1] + i * s[1]));
  });
}

}  // namespace

Tensor unary(Unary op, const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  StridedIter it(x.shape(), {y, x});
  if (op == Unary::exp && x.dtype() == DType::f32) {
    exp_f32(it);
    return y;
  }
  dispatch_arith(x.dtype(), unary_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    with_op(op, [&](auto c) {
      constexpr Unary o = decltype(c)::value;
      if constexpr (unary_defined<T, o>()) {
        map_kernel<T, T>(it, [](T v) { return T(unary_fn<o>(A(v))); });
      } else {
        GAU_FAIL(unary_name(op), ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(x));
      }
    });
  });
  return y;
}

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& d_y) {
  Tensor d_x = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  StridedIter it(x.shape(), {d_x, x, d_y});
  dispatch_arith(x.dtype(), unary_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    with_op(op, [&](auto c) {
      constexpr Unary o = decltype(c)::value;
      if constexpr (unary_defined<T, o>()) {
        map_kernel<T, T, T>(it, [](T v, T g) { return T(A(g) * unary_grad<o>(A(v))); });
      } else {
        GAU_FAIL(unary_name(op), "_backward: expected a floating dtype (f32, f64, bf16, f16), got ", describe(x));
      }
    });
  });
  return d_x;
}

Tensor bias_act(const Tensor& x, const Tensor& bias, Activation act) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  StridedIter it(x.shape(), {y, x, bias});
  dispatch_floating(x.dtype(), "bias_act", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    with_op(act, [&](auto c) {
      constexpr Activation a = decltype(c)::value;
      map_kernel<T, T, T>(it, [](T v, T b) { return T(activation_fn<a>(A(v) + A(b))); });
    });
  });
  return y;
}

Tensor bias_act_backward(const Tensor& x, const Tensor& bias, Activation act, const Tensor& d_y) {
  Tensor d_x = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  StridedIter it(x.shape(), {d_x, x, bias, d_y});
  dispatch_floating(x.dtype(), "bias_act_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    with_op(act, [&](auto c) {
      constexpr Activation a = decltype(c)::value;
      map_kernel<T, T, T, T>(it, [](T v, T b, T g) { return T(A(g) * activation_grad<a>(A(v) + A(b))); });
    });
  });
  return d_x;
}

}  // namespace gau::ops::cpu
