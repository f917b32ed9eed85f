#pragma once
// CPU tile primitives for the attention kernels: row-major BLAS GEMMs for f32/f64, row kernels
// over f32/f64 score tiles, and a guard that keeps OpenBLAS single-threaded inside our own OpenMP
// regions (each thread multiplies its own small tiles; a threaded BLAS would oversubscribe).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/ops/cpu/vec_math.h"

namespace gau::attention::detail::cpu {

// C [m, n] = alpha * op(A) op(B) + beta * C, row-major; op(A) [m, k], op(B) [k, n].
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                 int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

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

// Sets OpenBLAS to one thread for the guard's lifetime (OpenBLAS has no per-call thread count).
class BlasSingleThread {
 public:
  BlasSingleThread() : previous_(openblas_get_num_threads()) {
    if (previous_ != 1) openblas_set_num_threads(1);
  }
  ~BlasSingleThread() {
    if (previous_ != 1) openblas_set_num_threads(previous_);
  }
  BlasSingleThread(const BlasSingleThread&) = delete;
  BlasSingleThread& operator=(const BlasSingleThread&) = delete;

 private:
  int previous_;
};

}  // namespace gau::attention::detail::cpu
