#pragma once
// CUDA versions of core/ops/index.h, called by core/ops/index.cpp with validated shapes and
// dtypes; index values are checked here (an out-of-range one is an error naming it).
#include "core/tensor.h"

namespace gau::ops::cuda {

// weight [V, d], ids [...] (i32/i64) -> [..., d]
Tensor embedding(const Tensor& weight, const Tensor& ids);
// d_y [..., d], ids [...] -> [V, d] with out[ids[i]] += d_y[i] (f32/f64 atomics; bf16/f16 accumulate in f32)
Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings);
// out [V, ...] += src [n, ...] at rows index [n]
void index_add_(const Tensor& out, const Tensor& index, const Tensor& src);
// x [N, C], index [N] -> [N] with out[i] = x[i, index[i]]
Tensor gather_rows(const Tensor& x, const Tensor& index);

}  // namespace gau::ops::cuda
