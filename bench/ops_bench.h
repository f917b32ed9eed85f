#pragma once
// `gau bench ops`: the core op catalogue against the hardware's own baselines, in the same run.
//   matmul f32 at 512^3, 1024^3, 2048^3 against raw cblas_sgemm on the same buffers (CPU), or
//     f32 and bf16 through cuBLASLt (CUDA); --sizes overrides the n list;
//   add on 64 MB f32 operands against memcpy bandwidth (a parallel memcpy on CPU, copy_ on CUDA);
//   softmax and sum over the last dim of a 64 MB f32 matrix, as GB/s and as a fraction of memcpy.
#include <nlohmann/json.hpp>

#include "bench/bench.h"

namespace gau::bench {

nlohmann::json run_ops_bench(const BenchConfig& cfg);

}  // namespace gau::bench
