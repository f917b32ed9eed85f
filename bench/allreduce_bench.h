#pragma once
// `gau bench allreduce`: the bus bandwidth of gau's all_reduce (sum, f32, in place) from 1 MiB to
// 256 MiB per rank (--quick: 1 MiB; --sizes overrides, in MiB), beside a loop of blocking
// MPI_Allreduce calls on the same buffer in the same run (CPU only). Run it under a launcher:
//   mpirun -np 2 gau bench allreduce --json
// Only rank 0 prints. Started without one, it prints a note that it needs mpirun and exits 0.
//
// Each timed call starts after a barrier; its time is the slowest rank's. The bus bandwidth is
// 2 (N-1)/N * bytes / time, the bytes each rank sends and receives in a ring all-reduce, so that
// figures for different N compare (NCCL's convention).
#include <nlohmann/json.hpp>

#include "bench/bench.h"

namespace gau::bench {

nlohmann::json run_allreduce_bench(const BenchConfig& cfg);

}  // namespace gau::bench
