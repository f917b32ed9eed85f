#pragma once
// Gather / scatter by integer indices.
#include "core/tensor.h"

namespace gau::ops {

// weight [V, d], ids [...] (i32/i64) -> [..., d]. An id outside [0, V) is an error naming it.
Tensor embedding(const Tensor& weight, const Tensor& ids);
// The transpose of embedding: out [V, d] with out[ids[i]] += d_y[i] (duplicates accumulate).
Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings);
// out[index[i], :] += src[i, :] along dim 0, in place on out [V, ...]; index is 1-D.
void index_add_(const Tensor& out, const Tensor& index, const Tensor& src);
// out[i] = x[i, index[i]] for x [N, C]: used for picking target logits.
Tensor gather_rows(const Tensor& x, const Tensor& index);

}  // namespace gau::ops
