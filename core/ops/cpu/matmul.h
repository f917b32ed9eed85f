#pragma once
// CPU GEMM through OpenBLAS. Arguments are validated by core/ops/matmul.cpp.
#include "core/ops/matmul.h"
#include "core/tensor.h"

namespace gau::ops::cpu {

// out = alpha * op(a) @ op(b) + beta * out.
//   out [batch..., m, n] contiguous;  a [batch_a..., m, k] (or [.., k, m] with trans_a);
//   b [batch_b..., k, n] (or [.., n, k] with trans_b); batch_a and batch_b broadcast to batch.
// With beta == 0, out is never read (it may hold garbage).
void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta);

}  // namespace gau::ops::cpu
