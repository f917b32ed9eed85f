#pragma once
// `gau bench attention`: tiled attention (layers/attention/attention.h), forward and backward, for
// softmax and relu2, causal and not, over sequence lengths n:
//   CPU:  f32, b = 1, h = 8, s = e = 64, n in {512, 1k, 2k, 4k} (the PyTorch CPU comparison,
//         bench/attention_torch_cpu.py, runs the same cases);
//   CUDA: bf16, b = 1, h = 16, s = e = 128, n in {512, ..., 16k} (bench/attention_torch_gpu.py),
//         plus the GAU shape (h = 1, s = 128, e = 1024, relu2) at n = 4k and 64k.
// --sizes replaces the list of n. Each record: forward and backward timings (backward alone, on a
// retained graph), GFLOP/s (CPU) or TFLOP/s (CUDA), and the peak allocator bytes of one
// forward + backward above the inputs.
// FLOPs: forward 2 n^2 (s + e) b h, backward 2 n^2 (3 s + 2 e) b h (the five tile products of the
// FlashAttention-2 backward), both halved when causal.
#include <nlohmann/json.hpp>

#include "bench/bench.h"

namespace gau::bench {

nlohmann::json run_attention_bench(const BenchConfig& cfg);

}  // namespace gau::bench
