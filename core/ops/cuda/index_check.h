#pragma once
// Range checks of index tensors that live on a GPU: one small kernel finds the first bad
// position, and one 8-byte copy brings it back (a stream sync), so errors name the bad value.
#include <string>

#include "core/tensor.h"

namespace gau::ops::cuda {

// Throws "<op>: <what> <value> at position <i> is out of range [0, limit) (<context>)" for the
// first entry of `indices` (i32/i64, any shape) outside [0, limit) that is not `ignore` (when
// `has_ignore`).
void check_index_range(const Tensor& indices, int64_t limit, bool has_ignore, int64_t ignore, const char* op,
                       const char* what, const std::string& context);

}  // namespace gau::ops::cuda
