#pragma once
// CUDA versions of core/ops/softmax.h, called by core/ops/softmax.cpp with `dim` wrapped.
#include "core/tensor.h"

namespace gau::ops::cuda {

Tensor softmax(const Tensor& x, int64_t dim);      // x [*] -> x's shape
Tensor log_softmax(const Tensor& x, int64_t dim);  // x [*] -> x's shape
// d_x = y * (d_y - sum(d_y * y)); y, d_y [*]
Tensor softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);
// d_x = d_y - exp(y) * sum(d_y); y, d_y [*]
Tensor log_softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);

}  // namespace gau::ops::cuda
