#pragma once
// CPU tile primitives for the attention kernels: row-major BLAS GEMMs for f32/f64, a vectorisable
// exp for f32 score tiles, and a guard that keeps OpenBLAS single-threaded inside our own OpenMP
// regions (each thread multiplies its own small tiles; a threaded BLAS would oversubscribe).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace gau::attention::detail::cpu {

// C [m, n] = alpha * op(A) op(B) + beta * C, row-major; op(A) [m, k], op(B) [k, n].
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
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

// exp(x) for f32 score tiles: Cephes' range reduction x = k ln2 + r and degree-6 polynomial (about
// 1 ulp); exp(-inf) = 0 (masked scores). The row kernels below run it 8 lanes at a time.
inline float exp_tile(float x) {
  const float xc = std::min(std::max(x, -87.0f), 88.3762626647949f);
  const float k = std::floor(xc * 1.44269504088896341f + 0.5f);
  const float r = xc - k * 0.693359375f + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float two_k;
  std::memcpy(&two_k, &bits, sizeof(two_k));
  return x >= -87.0f ? y * two_k : 0.0f;
}
inline double exp_tile(double x) { return std::exp(x); }

// Row kernels over one row of a tile (AVX2 for f32 when the build targets it; GCC does not
// vectorise exp_tile loops in the position-independent library build).
float row_max(const float* row, int64_t n);
double row_max(const double* row, int64_t n);
// row = relu(row)^2
void relu2_row(float* row, int64_t n);
void relu2_row(double* row, int64_t n);
// row = exp(row - shift); returns the row's sum.
float exp_shifted_sum(float* row, int64_t n, float shift);
double exp_shifted_sum(double* row, int64_t n, double shift);
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
