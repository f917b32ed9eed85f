#pragma once
// Matrix products: OpenBLAS on CPU, cuBLASLt on GPU (bf16/f16 inputs with f32 accumulation).
#include "core/tensor.h"

namespace gau::ops {

struct MatmulOptions {
  bool trans_a = false;  // use a^T (swap a's last two dims)
  bool trans_b = false;  // use b^T
  double alpha = 1.0;    // scale folded into the GEMM
};

// C = alpha * op(a) @ op(b).
//   a: [m, k] or [batch..., m, k];  b: [k, n] or [batch..., k, n]  (before the transposes)
// Batch dims broadcast (a 2-D operand is shared by every batch). Any strides are accepted;
// operands whose inner dim is not unit-stride are made contiguous first.
Tensor matmul(const Tensor& a, const Tensor& b, const MatmulOptions& opt = {});
// out = alpha * op(a) @ op(b) + beta * out, in place (out contiguous, of the result's shape).
// out has the operands' dtype, or is f32 for bf16/f16 operands: the f32 accumulation is then
// written as it is, never rounded to the operands' dtype (a bf16 weight's f32 gradient buffer).
void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt = {},
                 double beta = 0.0);
// The shape of op(a) @ op(b), [batch..., m, n], after the same checks matmul makes.
Shape matmul_shape(const Tensor& a, const Tensor& b, const MatmulOptions& opt = {});
// Whether matmul_into accepts an `out` of dtype `out` for operands of dtype `operands`.
bool matmul_accumulates_in(DType out, DType operands);
// bmm: both 3-D with the same batch.
Tensor bmm(const Tensor& a, const Tensor& b, const MatmulOptions& opt = {});

}  // namespace gau::ops
