#pragma once
// Small helpers shared by the backward formulas in autograd/ops_*.cpp.
#include <vector>

#include "autograd/node.h"
#include "core/tensor.h"

namespace gau::autograd {

using Grads = std::vector<Tensor>;

// The gradient of a broadcast: sums g back to `shape` (no-op when it already has it).
Tensor reduce_to(const Tensor& g, const Shape& shape);

// The shape a reduction over `dims` has with keepdim (empty dims = all), for re-expanding d_y.
Shape keepdim_shape(const Shape& in, const std::vector<int64_t>& dims, const char* op);

// d_y of a reduction over `dims`, reshaped with the reduced dims kept as 1 and expanded to `in`.
Tensor expand_reduced(const Tensor& d_y, const Shape& in, const std::vector<int64_t>& dims, const char* op);

}  // namespace gau::autograd
