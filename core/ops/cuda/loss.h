#pragma once
// CUDA cross-entropy, called by core/ops/loss.cpp with validated shapes; target values are
// checked here. Same math as the CPU backend (core/ops/cpu/loss.cpp).
#include "core/ops/loss.h"

namespace gau::ops::cuda {

// logits [N, C], targets [N] (i32/i64) -> loss [] and lse [N] in f32 (f64 for f64 logits), count.
// Returning `count` to the host costs one stream sync.
CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt);
// -> d_logits [N, C] in logits' dtype
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                              double d_loss, const CrossEntropyOptions& opt);

}  // namespace gau::ops::cuda
