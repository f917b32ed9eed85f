#include "bench/model_bench.h"

#include <cblas.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "bench/model_flops.h"
#include "core/allocator.h"
#include "core/ops/factory.h"
#include "core/ops/matmul.h"
#include "core/threads.h"
#include "layers/flat_parameters.h"
#include "layers/models/language_model.h"
#include "layers/models/matched_size.h"
#include "layers/registry.h"

namespace gau::bench {

namespace {

struct ModelSizes {
  int64_t dim, transformer_layers, vocab, tokens, sgemm_n;
};

ModelSizes model_sizes(const BenchConfig& cfg) {
  if (cfg.quick) return {64, 1, 256, 256, cfg.device.is_cuda() ? 1024 : 256};
  return {256, 2, 256, 4096, cfg.device.is_cuda() ? 8192 : 2048};
}

// A square f32 GEMM, C = A B, n x n x n: the machine's reference rate. On the CPU raw
// cblas_sgemm (the library under ops::matmul, on the same threads); on CUDA ops::matmul.
std::function<void()> sgemm(int64_t n, Device device) {
  auto a = std::make_shared<Tensor>(ops::randn({n, n}, DType::f32, device));  // [n, n]
  auto b = std::make_shared<Tensor>(ops::randn({n, n}, DType::f32, device));  // [n, n]
  auto c = std::make_shared<Tensor>(ops::empty({n, n}, DType::f32, device));  // [n, n]
  if (device.is_cuda()) return [a, b, c] { *c = ops::matmul(*a, *b); };
  const int m = static_cast<int>(n);
  return [a, b, c, m] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, a->data<float>(), m, b->data<float>(), m,
                0.0f, c->data<float>(), m);
  };
}

nlohmann::json measure(const std::string& flavour, int64_t n, const ModelSizes& sz, const BenchConfig& cfg) {
  const Device dev = cfg.device;
  layers::MatchedSizeSpec spec;
  spec.vocab = sz.vocab;
  spec.dim = sz.dim;
  spec.max_length = n;
  spec.transformer_layers = sz.transformer_layers;
  const YAML::Node config = layers::matched_size_config(flavour, spec);
  auto model = std::dynamic_pointer_cast<layers::LanguageModel>(layers::build(config, "model"));
  model->to(dev);
  const layers::FlatParameters flat(*model);  // as the trainer holds them: the gradient sink fills them

  const int64_t b = std::max<int64_t>(1, sz.tokens / n);
  const Tensor ids = layers::example_token_ids(b, n, sz.vocab, dev, 1);      // [b, n]
  const Tensor targets = layers::example_token_ids(b, n, sz.vocab, dev, 2);  // [b, n]
  auto step = [&] {
    flat.zero_grad();
    model->loss(ids, targets).backward();
  };
  const std::vector<Timing> t = time_interleaved({step, sgemm(sz.sgemm_n, dev)}, cfg);

  synchronize(dev);
  const size_t base = memory_stats(dev).current;  // parameters, gradient buffers, tables, the batch
  reset_peak_memory(dev);
  step();
  synchronize(dev);
  const size_t peak = memory_stats(dev).peak - base;

  const StepFlops flops = language_model_step_flops(*model, b, n);
  const double sgemm_flops = 2.0 * static_cast<double>(sz.sgemm_n * sz.sgemm_n * sz.sgemm_n);
  const double step_gflops = gflop_per_s(flops.total(), t[0].median_ms);
  const double sgemm_gflops = gflop_per_s(sgemm_flops, t[1].median_ms);
  nlohmann::json rec = {{"name", "lm_step"},
                        {"flavour", flavour},
                        {"dtype", "f32"},
                        {"n", n},
                        {"b", b},
                        {"tokens", b * n},
                        {"dim", sz.dim},
                        {"layers", static_cast<int64_t>(model->blocks().size())},
                        {"vocab", sz.vocab},
                        {"parameters", model->parameter_count()},
                        {"matmul_parameters", flops.matmul_params},
                        {"step", to_json(t[0])},
                        {"tokens_per_s", static_cast<double>(b * n) / (t[0].median_ms * 1e-3)},
                        {"peak_bytes", peak},
                        {"model_flops", flops.total()},
                        {"attention_flops", 3 * flops.attention_forward},
                        {"model_gflops", step_gflops},
                        {"sgemm", {{"n", sz.sgemm_n}, {"timing", to_json(t[1])}, {"gflops", sgemm_gflops}}},
                        {"mfu", step_gflops / sgemm_gflops}};
  if (dev.is_cpu()) rec["threads"] = num_threads();
  return rec;
}

// A case that fails (out of memory, say) is reported, not fatal.
nlohmann::json measure_or_error(const std::string& flavour, int64_t n, const ModelSizes& sz, const BenchConfig& cfg) {
  try {
    return measure(flavour, n, sz, cfg);
  } catch (const std::exception& err) {
    return {{"name", "lm_step"}, {"flavour", flavour}, {"n", n}, {"error", err.what()}};
  }
}

}  // namespace

nlohmann::json run_model_bench(const BenchConfig& cfg) {
  const ModelSizes sz = model_sizes(cfg);
  nlohmann::json out = nlohmann::json::array();
  for (int64_t n : pick_sizes(cfg, {512, 2048, 8192}, 64))
    for (const char* flavour : {"gau", "flash", "transformer_pp"}) out.push_back(measure_or_error(flavour, n, sz, cfg));
  return out;
}

}  // namespace gau::bench
