#pragma once
// Backend cross-entropy of core/ops/loss.h, in gau::ops::cpu (cpu/loss.cpp) and gau::ops::cuda
// (cuda/loss.cu), with the same math. Shapes and dtypes are validated by loss.cpp; target values
// are checked by the backend (they live in the data).
#include "core/ops/backend.h"
#include "core/ops/loss.h"

GAU_BACKEND_KERNELS(
    // logits [N, C] (CPU: rows not unit-stride are copied), targets [N] (i32/i64) -> loss [] and
    // lse [N] in f32 (f64 for f64 logits), count. CUDA: returning `count` costs one stream sync.
    CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt);
    // logits [N, C], targets [N], lse [N] -> d_logits [N, C] in logits' dtype
    Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                                  double d_loss, const CrossEntropyOptions& opt);)
