#pragma once
// CUDA versions of core/ops/reduce.h, called by core/ops/reduce.cpp with validated arguments:
// `dims` wrapped, sorted and unique (empty only for a scalar), `dim` wrapped; floating dtypes.
#include <vector>

#include "core/tensor.h"

namespace gau::ops::cuda {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);   // x [*]
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);  // x [*]
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim);  // x [*]
Tensor max(const Tensor& x, int64_t dim, bool keepdim);        // x [*]
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim);     // x [*] -> i64
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim);  // x [*]
Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive);   // x [*] -> x's shape

}  // namespace gau::ops::cuda
