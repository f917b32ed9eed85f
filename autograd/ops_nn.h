#pragma once
// Differentiable softmax family, index ops and loss (kernels: core/ops/{softmax,index,loss}.h).
//
//   softmax:       d_x = y (d_y - sum(d_y y))          (y saved)
//   log_softmax:   d_x = d_y - exp(y) sum(d_y)         (y saved)
//   embedding:     d_weight[v] = sum of d_y rows whose id is v    (ids are not differentiated)
//   gather_rows:   d_x[i, index[i]] = d_y[i]
//   cross_entropy: d_logits = d_loss (softmax(logits) - target distribution) / count
#include "core/ops/loss.h"
#include "core/tensor.h"

namespace gau {

// x [...] -> [...], along `dim`.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// weight [V, d], ids [...] (i32/i64) -> [..., d]
Tensor embedding(const Tensor& weight, const Tensor& ids);
// x [N, C], index [N] (i32/i64) -> [N]: out[i] = x[i, index[i]]
Tensor gather_rows(const Tensor& x, const Tensor& index);

// logits [N, C], targets [N] (i32/i64) -> scalar loss (f32; f64 for f64 logits). Differentiable
// in logits; the loss's own dtype is what backward's d_loss comes in.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const ops::CrossEntropyOptions& opt = {});

}  // namespace gau
