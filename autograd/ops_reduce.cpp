#include "autograd/ops_reduce.h"

#include "autograd/ops_util.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"

namespace gau {

using autograd::Context;
using autograd::expand_reduced;
using autograd::Grads;
using autograd::keepdim_shape;

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = ops::sum(x, dims, keepdim);
  if (!autograd::needs_record({x})) return y;
  Shape in = x.shape();
  return autograd::record("sum", {x}, y, {}, [in, dims](Context&, const Grads& d) {
    return Grads{expand_reduced(d[0], in, dims, "sum")};
  });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = ops::mean(x, dims, keepdim);
  if (!autograd::needs_record({x})) return y;
  Shape in = x.shape();
  double count = y.numel() > 0 ? static_cast<double>(x.numel()) / static_cast<double>(y.numel()) : 1.0;
  return autograd::record("mean", {x}, y, {}, [in, dims, count](Context&, const Grads& d) {
    return Grads{expand_reduced(ops::mul(d[0], 1.0 / count), in, dims, "mean")};
  });
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  Tensor y = ops::var(x, dims, correction, keepdim);
  if (!autograd::needs_record({x})) return y;
  double count = y.numel() > 0 ? static_cast<double>(x.numel()) / static_cast<double>(y.numel()) : 1.0;
  return autograd::record("var", {x}, y, {x}, [dims, count, correction](Context& ctx, const Grads& d) {
    Tensor x = ctx.saved(0);
    Tensor centered = ops::sub(x, ops::mean(x, dims, /*keepdim=*/true));
    Tensor d_k = ops::reshape(d[0], keepdim_shape(x.shape(), dims, "var"));
    double scale = 2.0 / (count - static_cast<double>(correction));
    return Grads{ops::mul(ops::mul(centered, d_k), scale)};
  });
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor y = ops::max(x, dim, keepdim);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("max", {x}, y, {x}, [dim](Context& ctx, const Grads& d) {
    Tensor x = ctx.saved(0);
    int64_t dd = wrap_dim(dim, x.dim(), "max");
    // mask[..., i, ...] = (i == argmax), built by comparing an arange laid along `dim`.
    Tensor idx = ops::argmax(x, dd, /*keepdim=*/true);
    Shape ar_shape(static_cast<size_t>(x.dim()), 1);
    ar_shape[static_cast<size_t>(dd)] = x.size(dd);
    Tensor ar = ops::reshape(ops::arange(0, static_cast<double>(x.size(dd)), 1, idx.dtype(), x.device()), ar_shape);
    Tensor mask = ops::compare(ops::Compare::eq, ar, idx);
    Tensor d_k = ops::reshape(d[0], keepdim_shape(x.shape(), {dd}, "max"));
    return Grads{ops::where(mask, d_k, ops::zeros_like(x))};
  });
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor y = ops::logsumexp(x, dim, keepdim);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("logsumexp", {x}, y, {x, y}, [dim](Context& ctx, const Grads& d) {
    Tensor x = ctx.saved(0);
    Shape keep = keepdim_shape(x.shape(), {dim}, "logsumexp");
    Tensor y_k = ops::reshape(ctx.saved(1), keep);
    Tensor d_k = ops::reshape(d[0], keep);
    return Grads{ops::mul(ops::exp(ops::sub(x, y_k)), d_k)};
  });
}

Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive) {
  Tensor y = ops::cumsum(x, dim, exclusive);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("cumsum", {x}, y, {}, [dim, exclusive](Context&, const Grads& d) {
    // inclusive: d_x_i = sum_{j >= i} d_y_j = total - sum_{j < i} d_y_j;  exclusive: total - sum_{j <= i} d_y_j
    Tensor total = ops::sum(d[0], {dim}, /*keepdim=*/true);
    return Grads{ops::sub(total, ops::cumsum(d[0], dim, /*exclusive=*/!exclusive))};
  });
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  Tensor y = ops::sum_to(x, shape);
  if (!autograd::needs_record({x})) return y;
  Shape in = x.shape();
  return autograd::record("sum_to", {x}, y, {}, [in](Context&, const Grads& d) {
    return Grads{ops::expand(d[0], in)};
  });
}

}  // namespace gau
