#pragma once
// Differentiable shape/view ops and copies (kernels: core/ops/{view,copy}.h). Views share storage
// with their input, exactly like the kernels; only the gradient bookkeeping is added.
//
//   reshape/view/flatten/squeeze/unsqueeze:  d_x = reshape(d_y, x.shape)
//   permute/transpose:                        d_x = inverse permutation of d_y
//   narrow/slice/select:                      d_x = zeros, with d_y copied into the same window
//   expand:                                   d_x = sum_to(d_y, x.shape)
//   chunk/split (one node, many outputs):     d_x = cat of the pieces' gradients (zeros if none)
//   cat/stack:                                d_x_i = the i-th window of d_y
//   to_dtype/to_device:                       d_x = d_y converted back
//   contiguous/clone:                         d_x = d_y
#include <vector>

#include "core/tensor.h"

namespace gau {

Tensor view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim = 0);

Tensor to_dtype(const Tensor& x, DType dtype);
Tensor to_device(const Tensor& x, Device device);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);

}  // namespace gau
