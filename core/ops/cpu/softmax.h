#pragma once
// CPU softmax family. Arguments are validated by core/ops/softmax.cpp; `dim` is wrapped.
#include "core/tensor.h"

namespace gau::ops::cpu {

// x, y, d_y [*] (any strides, same shape) -> a contiguous tensor of that shape.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);
Tensor log_softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);

}  // namespace gau::ops::cpu
