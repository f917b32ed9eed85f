#pragma once
// Reductions along dims (accumulating in acc_t<T>, f64 for f64) and scans.
#include <vector>

#include "core/tensor.h"

namespace gau::ops {

// Empty `dims` reduces over all dims.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Variance with Bessel-style `correction` (1 = unbiased, 0 = population).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // i64; first index of the max
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);
// Inclusive: y_i = sum_{j<=i} x_j. Exclusive: y_i = sum_{j<i} x_j.
Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive = false);

// Sums a broadcast result back to `shape` (the gradient of a broadcast).
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace gau::ops
