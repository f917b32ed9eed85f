#include "autograd/ops_matmul.h"

#include "autograd/ops_util.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"

namespace gau {

using autograd::Context;
using autograd::Grads;
using autograd::reduce_to;

namespace {

using Gemm = Tensor (*)(const Tensor&, const Tensor&, const ops::MatmulOptions&);

ops::MatmulOptions flags(bool ta, bool tb, double alpha) {
  ops::MatmulOptions o;
  o.trans_a = ta;
  o.trans_b = tb;
  o.alpha = alpha;
  return o;
}

// Input i's gradient alpha op(x) op(y), of input shape `shape`. Added straight into the input's
// gradient buffer with one beta = 1 GEMM when it has one that GEMM can write (Context::grad_sink:
// contiguous, the product's shape, the operands' dtype or f32), else a fresh tensor summed back
// to `shape` over broadcast batch dims.
Tensor input_grad(Context& ctx, size_t i, Gemm gemm, const Tensor& x, const Tensor& y, const ops::MatmulOptions& o,
                  const Shape& shape) {
  Tensor sink = ctx.grad_sink(i);
  if (sink.defined() && sink.is_contiguous() && ops::matmul_accumulates_in(sink.dtype(), x.dtype()) &&
      ops::matmul_shape(x, y, o) == shape) {
    ops::matmul_into(sink, x, y, o, /*beta=*/1.0);
    ctx.used_grad_sink(i);
    return Tensor();
  }
  return reduce_to(gemm(x, y, o), shape);
}

// C = alpha op(a) op(b), d_c [..., m, n].
Grads matmul_backward(Gemm gemm, const ops::MatmulOptions& opt, Context& ctx, const Tensor& d_c) {
  Tensor a = ctx.saved(0), b = ctx.saved(1);
  const bool ta = opt.trans_a, tb = opt.trans_b;
  const double alpha = opt.alpha;
  Tensor d_a, d_b;
  if (ctx.needs_input_grad(0)) {
    // d_op(a) = alpha d_c op(b)^T; with trans_a, d_a = d_op(a)^T = alpha op(b) d_c^T.
    d_a = !ta ? input_grad(ctx, 0, gemm, d_c, b, flags(false, !tb, alpha), a.shape())
              : input_grad(ctx, 0, gemm, b, d_c, flags(tb, true, alpha), a.shape());
  }
  if (ctx.needs_input_grad(1)) {
    if (b.dim() == 2 && a.dim() > 2 && !ta) {
      // Shared weight: one GEMM over all rows of the batch, a [M, k], d_c [M, n].
      Tensor a2 = ops::reshape(a, {-1, a.size(-1)});
      Tensor d2 = ops::reshape(d_c, {-1, d_c.size(-1)});
      d_b = !tb ? input_grad(ctx, 1, gemm, a2, d2, flags(true, false, alpha), b.shape())
                : input_grad(ctx, 1, gemm, d2, a2, flags(true, false, alpha), b.shape());
    } else {
      // d_op(b) = alpha op(a)^T d_c; with trans_b, d_b = alpha d_c^T op(a).
      d_b = !tb ? input_grad(ctx, 1, gemm, a, d_c, flags(!ta, false, alpha), b.shape())
                : input_grad(ctx, 1, gemm, d_c, a, flags(true, ta, alpha), b.shape());
    }
  }
  return {d_a, d_b};
}

Tensor matmul_default(const Tensor& a, const Tensor& b, const ops::MatmulOptions& opt) { return ops::matmul(a, b, opt); }
Tensor bmm_default(const Tensor& a, const Tensor& b, const ops::MatmulOptions& opt) { return ops::bmm(a, b, opt); }

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, const ops::MatmulOptions& opt) {
  Tensor c = ops::matmul(a, b, opt);
  if (!autograd::needs_record({a, b})) return c;
  return autograd::record("matmul", {a, b}, c, {a, b}, [opt](Context& ctx, const Grads& d) {
    return matmul_backward(&matmul_default, opt, ctx, d[0]);
  });
}

Tensor bmm(const Tensor& a, const Tensor& b, const ops::MatmulOptions& opt) {
  Tensor c = ops::bmm(a, b, opt);
  if (!autograd::needs_record({a, b})) return c;
  return autograd::record("bmm", {a, b}, c, {a, b}, [opt](Context& ctx, const Grads& d) {
    return matmul_backward(&bmm_default, opt, ctx, d[0]);
  });
}

}  // namespace gau
