#pragma once
// `gau bench optim`: one AdamW step (optim/adam.h, f32, decoupled decay) over 10M and 100M
// parameters in one flat buffer (--quick: 1M; --sizes overrides, in parameters), as bytes moved
// per second (read w, g, m, v; write w, m, v: 7 × 4 bytes per parameter) against a copy of the
// same number of bytes in the same run (the faster of memcpy and an OpenMP-split memcpy on CPU,
// copy_ on CUDA). bench/optim_torch_cpu.py times torch.optim.AdamW(fused=True) at the same sizes.
#include <nlohmann/json.hpp>

#include "bench/bench.h"

namespace gau::bench {

nlohmann::json run_optim_bench(const BenchConfig& cfg);

}  // namespace gau::bench
