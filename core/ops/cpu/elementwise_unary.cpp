// CPU unary ops and the fused bias + activation; their derivatives are in elementwise_unary_grad.cpp.
#include <type_traits>

#include "core/ops/cpu/elementwise.h"
#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"
#include "core/ops/cpu/vec_math.h"

namespace gau::ops::cpu {

namespace {

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

}  // namespace gau::ops::cpu
