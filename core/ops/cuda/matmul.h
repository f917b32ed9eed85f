#pragma once
// CUDA GEMM through cuBLASLt, called by core/ops/matmul.cpp with validated operands.
#include "core/ops/matmul.h"

namespace gau::ops::cuda {

// out = alpha * op(a) @ op(b) + beta * out.  a [batch..., m, k] (or [k, m] with trans_a),
// b [batch..., k, n] (or [n, k] with trans_b), out [batch..., m, n] contiguous. Batch dims
// broadcast; a 2-D (or batch-1) operand is shared through a zero batch stride, other broadcast
// or non-collapsible batch layouts are made contiguous first. bf16/f16 accumulate in f32, f32 runs
// without TF32 (all through cuBLASLt); f64 runs as a strided-batched DGEMM.
void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta);

}  // namespace gau::ops::cuda
