#pragma once
// The CPU code's one cblas GEMM wrapper (core matmul and both attention backends use it) and the
// guard that keeps OpenBLAS single-threaded inside gau's own OpenMP regions.
#include <cblas.h>
#include <omp.h>

#include <cstdint>
#include <type_traits>

namespace gau::ops::cpu {

// Row-major C [m, n] = alpha op(A) op(B) + beta C, op(A) [m, k], op(B) [k, n]; A is float or double.
// An empty sum (k == 0) only applies beta (C = 0 when beta == 0), as BLAS defines it, without
// calling cblas: its leading dims must be >= max(1, k), which callers need not satisfy then.
template <typename A>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, std::type_identity_t<A> alpha, const A* a,
          int64_t lda, const A* b, int64_t ldb, std::type_identity_t<A> beta, A* c, int64_t ldc) {
  static_assert(std::is_same_v<A, float> || std::is_same_v<A, double>, "gemm: float or double only");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == A(0) ? A(0) : beta * c[i * ldc + j];
    return;
  }
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<A, double>) {
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
  } else {
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
  }
}

// Sets OpenBLAS to one thread for the guard's lifetime, and restores its count afterwards (OpenBLAS
// has no per-call thread count). For code that runs many small GEMMs from its own OpenMP threads,
// where a threaded BLAS would oversubscribe the cores. An inactive guard changes nothing.
//
// OpenBLAS built on OpenMP sets OpenMP's thread count along with its own, so the guard puts
// OpenMP's back: without that, every parallel region inside the guard that takes the default
// team size would run on one thread.
class BlasSingleThread {
 public:
  explicit BlasSingleThread(bool active = true)
      : previous_(active ? openblas_get_num_threads() : 1), openmp_(omp_get_max_threads()) {
    if (previous_ == 1) return;
    openblas_set_num_threads(1);
    omp_set_num_threads(openmp_);
  }
  ~BlasSingleThread() {
    if (previous_ == 1) return;
    openblas_set_num_threads(previous_);
    omp_set_num_threads(openmp_);
  }
  BlasSingleThread(const BlasSingleThread&) = delete;
  BlasSingleThread& operator=(const BlasSingleThread&) = delete;

 private:
  int previous_;  // OpenBLAS's thread count before the guard; 1 when there is nothing to restore
  int openmp_;    // OpenMP's (the calling thread's) before the guard
};

}  // namespace gau::ops::cpu
