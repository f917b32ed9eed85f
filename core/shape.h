#pragma once
// Shapes and strides are small int64 vectors (inline up to rank 6: no heap allocation for the
// shapes of almost every tensor); strides are in elements, not bytes.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/small_vector.h"

namespace gau {

using Shape = SmallVector<int64_t, 6>;

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);

// Normalises a possibly negative dim against rank; `op` names the caller in the error.
int64_t wrap_dim(int64_t dim, int64_t rank, const char* op);

// The multi-index of row-major flat position `flat` in `shape` (for naming an element in messages).
Shape unravel_index(int64_t flat, const Shape& shape);

// Numpy broadcasting of two shapes; the error names `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace gau
