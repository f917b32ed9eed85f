#include "autograd/ops_nn.h"

#include "autograd/ops_util.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/index.h"
#include "core/ops/softmax.h"
#include "core/ops/view.h"

namespace gau {

using autograd::Context;
using autograd::Grads;

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor y = ops::softmax(x, dim);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("softmax", {x}, y, {y}, [dim](Context& ctx, const Grads& d) {
    return Grads{ops::softmax_backward(ctx.saved(0), d[0], dim)};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor y = ops::log_softmax(x, dim);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("log_softmax", {x}, y, {y}, [dim](Context& ctx, const Grads& d) {
    return Grads{ops::log_softmax_backward(ctx.saved(0), d[0], dim)};
  });
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  Tensor y = ops::embedding(weight, ids);
  if (!autograd::needs_record({weight})) return y;
  int64_t vocab = weight.size(0);
  return autograd::record("embedding", {weight}, y, {ids}, [vocab](Context& ctx, const Grads& d) {
    return Grads{ops::embedding_backward(d[0], ctx.saved(0), vocab)};
  });
}

Tensor gather_rows(const Tensor& x, const Tensor& index) {
  Tensor y = ops::gather_rows(x, index);
  if (!autograd::needs_record({x})) return y;
  int64_t rows = x.size(0), cols = x.size(1);
  return autograd::record("gather_rows", {x}, y, {index}, [rows, cols](Context& ctx, const Grads& d) {
    // Scatter d_y into a zero [N, C] through the flat positions i * C + index[i]: the transpose of
    // a gather is an embedding backward over a [N * C, 1] table.
    Tensor index = ctx.saved(0);
    Tensor flat = ops::add(ops::mul(ops::arange(0, static_cast<double>(rows), 1, index.dtype(), index.device()),
                                    static_cast<double>(cols)),
                           index);
    Tensor d_flat = ops::embedding_backward(ops::reshape(d[0], {rows, 1}), flat, rows * cols);
    return Grads{ops::reshape(d_flat, {rows, cols})};
  });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const ops::CrossEntropyOptions& opt) {
  ops::CrossEntropyResult r = ops::cross_entropy(logits, targets, opt);
  if (!autograd::needs_record({logits})) return r.loss;
  int64_t count = r.count;
  return autograd::record("cross_entropy", {logits}, r.loss, {logits, targets, r.lse},
                          [count, opt](Context& ctx, const Grads& d) {
                            Tensor logits = ctx.saved(0), targets = ctx.saved(1), lse = ctx.saved(2);
                            return Grads{ops::cross_entropy_backward(logits, targets, lse, count, d[0].item(), opt)};
                          });
}

}  // namespace gau
