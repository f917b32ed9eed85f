// CPU unary ops and the fused bias + activation; their derivatives are in elementwise_unary_grad.cpp.
#include <type_traits>

#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"
#include "core/ops/cpu/vec_math.h"
#include "core/ops/elementwise_kernels.h"

namespace gau::ops::cpu {

namespace {

// y = exp(x) for f32 storage with the vectorised polynomial (core/ops/cpu/vec_math.h); bf16 and
// f16 keep std::exp, as the polynomial would change their rounding.
void exp_f32_block(char* const* p, int64_t n, const void*) {
  exp_row(reinterpret_cast<const float*>(p[1]), reinterpret_cast<float*>(p[0]), n);
}

// y = silu(x + b) for f32 compute (bf16 and f16 are staged to f32 blocks) with exp8.
void silu_bias_f32_block(char* const* p, int64_t n, const void*) {
  silu_bias_row(reinterpret_cast<const float*>(p[1]), reinterpret_cast<const float*>(p[2]),
                reinterpret_cast<float*>(p[0]), n);
}

}  // namespace

Tensor unary(Unary op, const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  StridedIter it(x.shape(), {y, x});
  if (op == Unary::exp && x.dtype() == DType::f32) {
    it.run(it.bind(&exp_f32_block, nullptr, {4, 4}, {true, true}));
    return y;
  }
  dispatch_arith(x.dtype(), unary_name(op), [&](auto tag) {
    using A = typename decltype(tag)::type;
    with_op(op, [&](auto c) {
      constexpr Unary o = decltype(c)::value;
      if constexpr (unary_defined<A, o>()) {
        map_kernel<A, A>(it, [](A v) { return A(unary_fn<o>(v)); });
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
  if (act == Activation::silu && x.dtype() != DType::f64) {
    it.run(it.bind(&silu_bias_f32_block, nullptr, {4, 4, 4}, {true, true, true}));
    return y;
  }
  dispatch_floating_compute(x.dtype(), "bias_act", [&](auto tag) {
    using A = typename decltype(tag)::type;
    with_op(act, [&](auto c) {
      constexpr Activation a = decltype(c)::value;
      map_kernel<A, A, A>(it, [](A v, A b) { return activation_fn<a>(v + b); });
    });
  });
  return y;
}

}  // namespace gau::ops::cpu
