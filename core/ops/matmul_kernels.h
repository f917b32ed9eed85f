#pragma once
// Backend GEMM of core/ops/matmul.h, in gau::ops::cpu (cpu/matmul.cpp, OpenBLAS) and
// gau::ops::cuda (cuda/matmul.cu, cuBLASLt). Arguments are validated by matmul.cpp.
#include "core/ops/backend.h"
#include "core/ops/matmul.h"
#include "core/tensor.h"

GAU_BACKEND_KERNELS(
    // out = alpha * op(a) @ op(b) + beta * out.
    //   out [batch..., m, n] contiguous;  a [batch_a..., m, k] (or [.., k, m] with trans_a);
    //   b [batch_b..., k, n] (or [.., n, k] with trans_b); batch_a and batch_b broadcast to batch.
    // With beta == 0, out is never read (it may hold garbage). out may be f32 for bf16/f16
    // operands. CPU: f32/f64 through BLAS, bf16/f16 computed in f32. CUDA: f32 compute without
    // TF32 through cuBLASLt (a 2-D or batch-1 operand shared through a zero batch stride, other
    // broadcast layouts made contiguous first); f64 as a strided-batched DGEMM.
    void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta);)
