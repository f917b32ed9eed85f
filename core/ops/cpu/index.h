#pragma once
// CPU gather/scatter. Shapes and dtypes are validated by core/ops/index.cpp; index values are
// checked here (they live in the data), and an out-of-range one is an error naming it.
#include "core/tensor.h"

namespace gau::ops::cpu {

Tensor embedding(const Tensor& weight, const Tensor& ids);  // weight [V, d], ids [...] -> [..., d]
// d_y [..., d], ids [...] -> [V, d]; summed per row in index order, so bitwise deterministic.
Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings);
void index_add_(const Tensor& out, const Tensor& index, const Tensor& src);  // out [V, ...], index [n], src [n, ...]
Tensor gather_rows(const Tensor& x, const Tensor& index);  // x [N, C], index [N] -> [N]

}  // namespace gau::ops::cpu
