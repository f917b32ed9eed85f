#include "autograd/ops_norm.h"

#include "autograd/ops_util.h"
#include "core/ops/dropout.h"
#include "core/ops/norm.h"
#include "core/ops/rope.h"

namespace gau {

using autograd::Context;
using autograd::Grads;

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  ops::NormOutput out = ops::layer_norm(x, weight, bias, eps);
  if (!autograd::needs_record({x, weight, bias})) return out.y;
  return autograd::record("layer_norm", {x, weight, bias}, out.y, {x, weight, bias, out.mean, out.rstd},
                          [](Context& ctx, const Grads& d) {
                            const bool params = ctx.needs_input_grad(1) || ctx.needs_input_grad(2);
                            ops::NormGrads g = ops::layer_norm_backward(d[0], ctx.saved(0), ctx.saved(1), ctx.saved(2),
                                                                        ctx.saved(3), ctx.saved(4), params);
                            return Grads{g.d_x, g.d_weight, g.d_bias};
                          });
}

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  ops::NormOutput out = ops::rms_norm(x, weight, eps);
  if (!autograd::needs_record({x, weight})) return out.y;
  return autograd::record("rms_norm", {x, weight}, out.y, {x, weight, out.rstd}, [](Context& ctx, const Grads& d) {
    ops::NormGrads g = ops::rms_norm_backward(d[0], ctx.saved(0), ctx.saved(1), ctx.saved(2), ctx.needs_input_grad(1));
    return Grads{g.d_x, g.d_weight};
  });
}

Tensor scale_norm(const Tensor& x, const Tensor& g, double eps) {
  ops::NormOutput out = ops::scale_norm(x, g, eps);
  if (!autograd::needs_record({x, g})) return out.y;
  return autograd::record("scale_norm", {x, g}, out.y, {x, g, out.rstd}, [eps](Context& ctx, const Grads& d) {
    ops::NormGrads gr =
        ops::scale_norm_backward(d[0], ctx.saved(0), ctx.saved(1), ctx.saved(2), eps, ctx.needs_input_grad(1));
    return Grads{gr.d_x, gr.d_weight};
  });
}

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  Tensor y = ops::dropout(x, p, seed, offset);
  if (p == 0 || !autograd::needs_record({x})) return y;
  // The backward is the same masked scaling of d_y: d_x = mask d_y / (1 - p).
  return autograd::record("dropout", {x}, y, {}, [p, seed, offset](Context&, const Grads& d) {
    return Grads{ops::dropout(d[0], p, seed, offset)};
  });
}

Tensor rope(const Tensor& x, const Tensor& table, int64_t position_offset) {
  Tensor y = ops::rope(x, table, position_offset);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("rope", {x}, y, {table}, [position_offset](Context& ctx, const Grads& d) {
    return Grads{ops::rope_backward(d[0], ctx.saved(0), position_offset)};
  });
}

}  // namespace gau
