#include "core/threads.h"

#include <cblas.h>
#include <omp.h>

#include "core/error.h"

namespace gau {

void set_num_threads(int n) {
  GAU_CHECK(n >= 1, "set_num_threads: the thread count must be at least 1, got ", n);
  const ThreadCounts previous = thread_counts();
  openblas_set_num_threads(n);
  const int blas = openblas_get_num_threads();
  if (blas != n) {
    // An OpenMP build of OpenBLAS sets OpenMP's count as well: restore both.
    openblas_set_num_threads(previous.openblas);
    omp_set_num_threads(previous.openmp);
    GAU_FAIL("set_num_threads: OpenBLAS took ", blas, " threads when asked for ", n,
             " (it caps the count at the maximum it was built for); use at most ", blas,
             " threads. OpenMP and OpenBLAS were left unchanged");
  }
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

ThreadCounts thread_counts() { return {omp_get_max_threads(), openblas_get_num_threads()}; }

}  // namespace gau
