#pragma once
// `gau bench flash`: FLASH mixed chunk attention (layers/attention/flash.h) beside quadratic relu^2
// attention (gau::attention::dot_product_attention, h = 1) at the same s and e, causal, batch 1:
//   forward and forward+backward time (median ms) and the peak bytes of one forward+backward
//   above its inputs, for n in {1k, 4k, 16k, 64k} (CPU: up to 16k, f32, e = 256; CUDA: bf16,
//   s = 128, e = 1024, c = 256). Quadratic attention is skipped where its O(n^2) time would
//   dominate the run (CPU n > 4k); --sizes overrides the n list.
#include <nlohmann/json.hpp>

#include "bench/bench.h"

namespace gau::bench {

nlohmann::json run_flash_bench(const BenchConfig& cfg);

}  // namespace gau::bench
