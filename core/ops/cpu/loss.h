#pragma once
// CPU cross-entropy. Shapes and dtypes are validated by core/ops/loss.cpp; target values are
// checked here (they live in the data).
#include "core/ops/loss.h"

namespace gau::ops::cpu {

// logits [N, C] (rows must be unit-stride or are copied), targets [N] -> loss [], lse [N].
CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt);
// logits [N, C], targets [N], lse [N] -> d_logits [N, C].
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                              double d_loss, const CrossEntropyOptions& opt);

}  // namespace gau::ops::cpu
