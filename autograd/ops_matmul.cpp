#include "autograd/ops_matmul.h"

#include "autograd/ops_util.h"
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

// C = alpha op(a) op(b), d_c [..., m, n].
Grads matmul_backward(Gemm gemm, const ops::MatmulOptions& opt, Context& ctx, const Tensor& d_c) {
  Tensor a = ctx.saved(0), b = ctx.saved(1);
  const bool ta = opt.trans_a, tb = opt.trans_b;
  const double alpha = opt.alpha;
  Tensor d_a, d_b;
  if (ctx.needs_input_grad(0)) {
    // d_op(a) = alpha d_c op(b)^T; with trans_a, d_a = d_op(a)^T = alpha op(b) d_c^T.
    d_a = !ta ? gemm(d_c, b, flags(false, !tb, alpha)) : gemm(b, d_c, flags(tb, true, alpha));
    d_a = reduce_to(d_a, a.shape());
  }
  if (ctx.needs_input_grad(1)) {
    if (b.dim() == 2 && a.dim() > 2 && !ta) {
      // Shared weight: one GEMM over all rows of the batch, a [M, k], d_c [M, n].
      Tensor a2 = ops::reshape(a, {-1, a.size(-1)});
      Tensor d2 = ops::reshape(d_c, {-1, d_c.size(-1)});
      d_b = !tb ? gemm(a2, d2, flags(true, false, alpha)) : gemm(d2, a2, flags(true, false, alpha));
    } else {
      // d_op(b) = alpha op(a)^T d_c; with trans_b, d_b = alpha d_c^T op(a).
      d_b = !tb ? gemm(a, d_c, flags(!ta, false, alpha)) : gemm(d_c, a, flags(true, ta, alpha));
      d_b = reduce_to(d_b, b.shape());
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
