// Derivatives of the CPU unary ops and of the fused bias + activation; apart from the forward ops
// in elementwise_unary.cpp so that the two template-heavy files compile in parallel.
#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"
#include "core/ops/cpu/vec_math.h"
#include "core/ops/elementwise_kernels.h"

namespace gau::ops::cpu {

namespace {

// d_x = d_y silu'(x + b) for f32 compute (bf16 and f16 are staged to f32 blocks) with exp8.
void silu_bias_grad_f32_block(char* const* p, int64_t n, const void*) {
  silu_bias_grad_row(reinterpret_cast<const float*>(p[1]), reinterpret_cast<const float*>(p[2]),
                     reinterpret_cast<const float*>(p[3]), reinterpret_cast<float*>(p[0]), n);
}

}  // namespace

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& d_y) {
  Tensor d_x = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  StridedIter it(x.shape(), {d_x, x, d_y});
  dispatch_arith(x.dtype(), unary_name(op), [&](auto tag) {
    using A = typename decltype(tag)::type;
    with_op(op, [&](auto c) {
      constexpr Unary o = decltype(c)::value;
      if constexpr (unary_defined<A, o>()) {
        map_kernel<A, A, A>(it, [](A v, A g) { return A(g * unary_grad<o>(v)); });
      } else {
        GAU_FAIL(unary_name(op), "_backward: expected a floating dtype (f32, f64, bf16, f16), got ", describe(x));
      }
    });
  });
  return d_x;
}

Tensor bias_act_backward(const Tensor& x, const Tensor& bias, Activation act, const Tensor& d_y) {
  Tensor d_x = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  StridedIter it(x.shape(), {d_x, x, bias, d_y});
  if (act == Activation::silu && x.dtype() != DType::f64) {
    it.run(it.bind(&silu_bias_grad_f32_block, nullptr, {4, 4, 4, 4}, {true, true, true, true}));
    return d_x;
  }
  dispatch_floating_compute(x.dtype(), "bias_act_backward", [&](auto tag) {
    using A = typename decltype(tag)::type;
    with_op(act, [&](auto c) {
      constexpr Activation a = decltype(c)::value;
      map_kernel<A, A, A, A>(it, [](A v, A b, A g) { return g * activation_grad<a>(v + b); });
    });
  });
  return d_x;
}

}  // namespace gau::ops::cpu
