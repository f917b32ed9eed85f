#pragma once
// Softmax family along one dim, computed stably (max-subtracted) in acc_t<T>.
#include "core/tensor.h"

namespace gau::ops {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// d_x = y * (d_y - sum(d_y * y)), y = softmax(x)
Tensor softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);
// d_x = d_y - exp(y) * sum(d_y), y = log_softmax(x)
Tensor log_softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim);

}  // namespace gau::ops
