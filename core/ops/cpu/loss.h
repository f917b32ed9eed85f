#pragma once
// CPU cross-entropy. Shapes and dtypes are validated by core/ops/loss.cpp; target values are
// checked here (they live in the data).
#include "core/ops/loss.h"

namespace gau::ops::cpu {

CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt);
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                              double d_loss, const CrossEntropyOptions& opt);

}  // namespace gau::ops::cpu
