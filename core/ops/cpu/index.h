#pragma once
// CPU gather/scatter. Shapes and dtypes are validated by core/ops/index.cpp; index values are
// checked here (they live in the data), and an out-of-range one is an error naming it.
#include "core/tensor.h"

namespace gau::ops::cpu {

Tensor embedding(const Tensor& weight, const Tensor& ids);
Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings);
void index_add_(const Tensor& out, const Tensor& index, const Tensor& src);
Tensor gather_rows(const Tensor& x, const Tensor& index);

}  // namespace gau::ops::cpu
