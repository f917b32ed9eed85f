#pragma once
// CPU tile primitives for the attention kernels: row-major BLAS GEMMs for f32/f64, row kernels
// over f32/f64 score tiles, and a guard that keeps OpenBLAS single-threaded inside our own OpenMP
// regions (each thread multiplies its own small tiles; a threaded BLAS would oversubscribe).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/ops/cpu/blas.h"
#include "core/ops/cpu/vec_math.h"

namespace gau::attention::detail::cpu {

// The GEMM wrapper and the OpenBLAS single-thread guard (each thread multiplies its own tiles).
using ::gau::ops::cpu::BlasSingleThread;
using ::gau::ops::cpu::gemm;

// Row kernels over one row of a tile (AVX2 for f32 when the build targets it). The exp and the
// row reductions are core's vectorised ones (core/ops/cpu/vec_math.h), shared with softmax:
//   row_max(row, n)                 max of the row
//   exp_shifted_sum(row, n, shift)  row = exp(row - shift); returns the row's sum
using ::gau::ops::cpu::exp_shifted_sum;
using ::gau::ops::cpu::row_max;
// row = relu(row)^2
void relu2_row(float* row, int64_t n);
void relu2_row(double* row, int64_t n);
// Softmax backward of one row: P = exp(S - lse); dS = P (dA f - d) into dp; P f into s (for dV).
// f (dropout factors) may be null (no dropout).
void softmax_grad_row(float* s, float* dp, const float* f, int64_t n, float lse, float d);
void softmax_grad_row(double* s, double* dp, const double* f, int64_t n, double lse, double d);
// relu2 backward of one row: dS = 2 relu(S) dA f into dp; relu(S)^2 f into s.
void relu2_grad_row(float* s, float* dp, const float* f, int64_t n);
void relu2_grad_row(double* s, double* dp, const double* f, int64_t n);

}  // namespace gau::attention::detail::cpu
