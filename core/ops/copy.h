#pragma once
// Copies between devices, dtypes and layouts. Casts to bf16/f16 round to nearest even.
#include "core/tensor.h"

namespace gau::ops {

// dst[...] = src[...], broadcasting src to dst's shape; any devices, dtypes and strides.
// Bumps dst's version.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, double value);

Tensor to_device(const Tensor& x, Device device);  // returns x itself when already there
Tensor to_dtype(const Tensor& x, DType dtype);     // returns x itself when already that dtype
Tensor contiguous(const Tensor& x);                // returns x itself when already contiguous
Tensor clone(const Tensor& x);                     // always a new contiguous copy

}  // namespace gau::ops
