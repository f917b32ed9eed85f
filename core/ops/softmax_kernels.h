#pragma once
// Backend softmax family of core/ops/softmax.h, in gau::ops::cpu (cpu/softmax.cpp) and
// gau::ops::cuda (cuda/softmax.cu). Arguments are validated by softmax.cpp; `dim` is wrapped.
#include "core/ops/backend.h"
#include "core/tensor.h"

GAU_BACKEND_KERNELS(
    // x, y, d_y [*] (any strides, same shape) -> a contiguous tensor of that shape.
    Tensor softmax(const Tensor& x, int64_t dim); Tensor log_softmax(const Tensor& x, int64_t dim);
    // d_x = y * (d_y - sum(d_y * y))
    Tensor softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);
    // d_x = d_y - exp(y) * sum(d_y)
    Tensor log_softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);)
