#pragma once
// Shape and view ops (grad-free). Views share storage with their input; ops that cannot be a
// view (reshape of a non-viewable layout, cat, stack) copy.
#include <vector>

#include "core/tensor.h"

namespace gau::ops {

// One dim may be -1 (inferred). view() requires a compatible layout; reshape() copies if needed.
Tensor view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
// Elements [start, start + length) along dim.
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Python-style slice [start:end:step] along dim (negative start/end count from the end).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // drops dim
// Broadcast to `shape` (size-1 dims get stride 0; new leading dims are added).
Tensor expand(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
// `chunks` near-equal pieces along dim (the last may be smaller), as views.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Pieces of the given sizes along dim, as views.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim = 0);

}  // namespace gau::ops
