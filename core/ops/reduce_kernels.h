#pragma once
// Backend reductions and scans of core/ops/reduce.h, in gau::ops::cpu (cpu/reduce.cpp) and
// gau::ops::cuda (cuda/reduce.cu). Arguments are validated by reduce.cpp: `dims` are wrapped, sorted
// and unique (empty only for a scalar; "all dims" is spelled out), `dim` is wrapped.
#include <vector>

#include "core/ops/backend.h"
#include "core/tensor.h"

GAU_BACKEND_KERNELS(
    // x [*] (any strides) -> x's shape without `dims` (or with 1s there when keepdim).
    Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
    Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
    Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim);
    // x [*] -> x's shape without `dim` (1 there when keepdim); argmax gives i64.
    Tensor max(const Tensor& x, int64_t dim, bool keepdim); Tensor argmax(const Tensor& x, int64_t dim, bool keepdim);
    Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim);
    Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive);  // x [*] -> x's shape
)
