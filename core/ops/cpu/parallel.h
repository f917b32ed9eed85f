#pragma once
// When a CPU op forks an OpenMP team: every `#pragma omp parallel` in core/ops/cpu has
// `if (work >= kParallelMin)`, with work in elements (multiply-adds for matmul batches).
#include <cstdint>

namespace gau::ops::cpu {

// Work below this stays on the calling thread. Forking costs a few microseconds on an idle
// machine, but afterwards the team's threads spin waiting for the next region (libgomp's default
// wait policy) and, on a loaded machine, take cores from the caller and from other processes:
// `gau demo` (bias gradients of 512 x 64 = 32768 elements went parallel at the old 32768) took
// 0.7-0.9 s with two threads against 0.08 s with OMP_NUM_THREADS=1. 2^17 f32 elements (512 KiB)
// are 30-100 us of one core's work, where a second thread starts paying for itself.
constexpr int64_t kParallelMin = int64_t{1} << 17;

}  // namespace gau::ops::cpu
