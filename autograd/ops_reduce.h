#pragma once
// Differentiable reductions and scans (kernels: core/ops/reduce.h).
//
//   sum:       d_x = expand(d_y)
//   mean:      d_x = expand(d_y) / count
//   var:       d_x = expand(d_y) * 2 (x - mean) / (count - correction)
//   max:       d_y goes to the (first) argmax of each slice, like torch.max(x, dim)
//   logsumexp: d_x = expand(d_y) * exp(x - y)
//   cumsum:    d_x = reverse cumulative sum of d_y (exclusive scans shift by one)
//   sum_to:    d_x = expand(d_y) to x's shape
#include <vector>

#include "core/tensor.h"

namespace gau {

// x [...]; empty `dims` reduces over all dims.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive = false);
// x broadcast-compatible with `shape` (larger); summed down to `shape`.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace gau
