#pragma once
// `gau bench model`: one language-model training step, forward + backward (loss =
// LanguageModel::loss on random byte ids, then backward into flat gradient buffers; no optimizer),
// for the three flavours at the same parameter count (layers/models/matched_size.h: 2L GAU or
// FLASH layers against L Transformer++ layers) over sequence lengths n, with the batch chosen so
// that every step holds the same number of tokens (b = max(1, tokens / n)):
//   full:   d = 256, L = 2 (4 GAU / FLASH layers), vocab 256, 4096 tokens, n in {512, 2k, 8k};
//           the CPU target shape is n = 512, b = 8
//   quick:  d = 64, L = 1, 256 tokens, n = 64 (a smoke run of a second or two)
// --sizes replaces the list of n. f32 on either device.
//
// Each record: the step's timing, tokens/s, the peak allocator bytes of one step above the
// model's own (parameters, gradient buffers, tables, the batch), the model FLOPs of the step
// (bench/model_flops.h) and the model FLOPs utilisation against an f32 GEMM measured in the same
// run: a square sgemm (CPU: cblas_sgemm 2048³ on the same threads; CUDA: ops::matmul 8192³)
// timed interleaved with the step, so machine load falls on both alike.
#include <nlohmann/json.hpp>

#include "bench/bench.h"

namespace gau::bench {

nlohmann::json run_model_bench(const BenchConfig& cfg);

}  // namespace gau::bench
