#pragma once
// The CPU optimizer kernels' chunk loop over a range table (optim/target.h has the rest).
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "core/ops/cpu/parallel.h"
#include "optim/kernels.h"
#include "optim/target.h"

namespace gau::optim::cpu {

// Runs f(chunk_index, range, begin, end) for every chunk, the chunks split statically over the
// OpenMP threads (one per kParallelMin elements, none inside another parallel region).
template <typename F>
void for_each_chunk(const RangeTable& table, F&& f) {
  const int64_t n = static_cast<int64_t>(table.chunks.size());
  if (n == 0) return;
  int64_t total = 0;
  for (const KernelChunk& c : table.chunks) total += c.end - c.begin;
  const int64_t threads = omp_in_parallel() ? 1
                                            : std::clamp<int64_t>(total / ops::cpu::kParallelMin, 1,
                                                                  std::min<int64_t>(omp_get_max_threads(), n));
  if (threads == 1) {
    for (int64_t c = 0; c < n; ++c) {
      const KernelChunk& ch = table.chunks[c];
      f(c, table.ranges[ch.range], ch.begin, ch.end);
    }
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t c = 0; c < n; ++c) {
    const KernelChunk& ch = table.chunks[c];
    f(c, table.ranges[ch.range], ch.begin, ch.end);
  }
}

}  // namespace gau::optim::cpu
