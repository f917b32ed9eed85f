#pragma once
// One setting for the CPU thread pools gau uses: OpenMP (gau's own parallel loops) and OpenBLAS
// (GEMMs). Setting them apart lets them drift, for example 8 OpenMP threads that each start an
// 8-thread GEMM; gau::set_num_threads keeps them equal. The trainer's `threads:` config key is
// meant to call it once at start-up.
//
// OpenMP's thread count is a per-thread setting: it applies to parallel regions started from the
// thread that calls set_num_threads (call it from the thread that runs the model). OpenBLAS's is
// process-wide.

namespace gau {

// The thread counts the two pools would use now.
struct ThreadCounts {
  int openmp = 0;    // omp_get_max_threads() of the calling thread
  int openblas = 0;  // openblas_get_num_threads()
  bool agree() const { return openmp == openblas; }
};

// Sets both pools to n threads. Throws gau::Error when n < 1, or when OpenBLAS does not take n
// (it caps the count at the maximum it was built for); both pools are left unchanged then.
void set_num_threads(int n);

// The thread count of gau's parallel loops (OpenMP); equal to OpenBLAS's after set_num_threads.
int num_threads();

ThreadCounts thread_counts();

}  // namespace gau
