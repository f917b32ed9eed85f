#pragma once
// Differentiable matrix products (kernels: core/ops/matmul.h).
//
//   C = alpha op(a) op(b):   d_op(a) = alpha d_C op(b)^T,   d_op(b) = alpha op(a)^T d_C
// computed with the same GEMM and transpose flags (no transposed copies). Broadcast batch dims
// are summed back; a 2-D b shared by a batched a (a Linear layer) gets its gradient from ONE GEMM
// over the flattened batch.
#include "core/ops/matmul.h"
#include "core/tensor.h"

namespace gau {

// a [..., m, k] (or [..., k, m] with trans_a), b [..., k, n] (or [..., n, k] with trans_b) -> [..., m, n]
Tensor matmul(const Tensor& a, const Tensor& b, const ops::MatmulOptions& opt = {});
// a [batch, m, k], b [batch, k, n] (with the same transpose rules) -> [batch, m, n]
Tensor bmm(const Tensor& a, const Tensor& b, const ops::MatmulOptions& opt = {});

}  // namespace gau
