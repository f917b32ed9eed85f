#pragma once
// Cross-entropy from logits. The forward keeps one log-sum-exp per row; the backward rebuilds the
// softmax from it, so softmax is never materialised twice.
#include "core/tensor.h"

namespace gau::ops {

struct CrossEntropyOptions {
  int64_t ignore_index = -100;   // rows whose target equals this contribute nothing
  double label_smoothing = 0.0;  // target distribution (1 - eps) one-hot + eps / C
};

struct CrossEntropyResult {
  Tensor loss;   // scalar: mean over non-ignored rows (0 if none), in f32 (f64 for f64 logits)
  Tensor lse;    // [N] log-sum-exp per row, f32 (f64 for f64 logits), saved for backward
  int64_t count; // number of non-ignored rows
};

// logits [N, C] (any float dtype), targets [N] (i32/i64).
CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt = {});
// d_logits [N, C] in logits' dtype, for an upstream scalar gradient d_loss.
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                              double d_loss, const CrossEntropyOptions& opt = {});

}  // namespace gau::ops
