#include "bench/autograd_bench.h"

#include <chrono>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "core/stream.h"

namespace gau::bench {

namespace {

constexpr int kChain = 1000;

// A 1,000-op chain y = ((x * w) + x) * w + x ..., alternating mul and add so that both kinds of
// node (one saving tensors, one not) are on the tape.
Tensor chain(const Tensor& x, const Tensor& w) {
  Tensor y = x;
  for (int i = 0; i < kChain; ++i) y = i % 2 ? gau::add(y, x) : gau::mul(y, w);
  return y;
}

nlohmann::json per_op(const char* name, const Timing& t, int ops_per_call) {
  const double to_ns = 1e6 / ops_per_call;
  return {{"name", name},
          {"ns_per_op", t.median_ms * to_ns},
          {"min_ns_per_op", t.min_ms * to_ns},
          {"ops_per_call", ops_per_call},
          {"timing", to_json(t)}};
}

// The weight gradient of y = x w (x [m, k], w [k, n] with a preallocated f32 gradient buffer, as
// in a model's flat buffer): with the gradient sink, one GEMM adds x^T d_y straight into the
// buffer (beta = 1: it reads and writes the k x n buffer once); without it, a fresh GEMM writes a
// temporary that the engine then adds into the buffer (temporary written, read, buffer read and
// written). Interleaved, same buffers, same run.
nlohmann::json weight_grad_sink(const BenchConfig& cfg) {
  const int64_t m = cfg.quick ? 16 : 64, k = cfg.quick ? 256 : 2048, n = k;
  Tensor x = ops::randn({m, k}, DType::f32, cfg.device);
  Tensor w = ops::randn({k, n}, DType::f32, cfg.device);
  w.requires_grad_();
  w.set_grad(ops::zeros({k, n}, DType::f32, cfg.device));
  Tensor d_y = ops::randn({m, n}, DType::f32, cfg.device);
  Tensor y = gau::matmul(x, w);
  auto backward_with = [&](bool sinks) {
    return [&, sinks] {
      autograd::set_grad_sinks_enabled(sinks);
      autograd::backward({y}, {d_y}, /*retain_graph=*/true);
      autograd::set_grad_sinks_enabled(true);
    };
  };
  std::vector<Timing> t = time_interleaved({backward_with(true), backward_with(false)}, cfg);
  const double buffer_bytes = static_cast<double>(k * n) * sizeof(float);
  return {{"name", "weight_grad_sink"},
          {"shape", {m, k, n}},
          {"sink", to_json(t[0])},
          {"fresh_gemm_then_add", to_json(t[1])},
          {"speedup", t[0].median_ms > 0 ? t[1].median_ms / t[0].median_ms : 0.0},
          {"buffer_passes_sink", 2},
          {"buffer_passes_fresh", 4},
          {"buffer_mib", buffer_bytes / (1 << 20)}};
}

}  // namespace

nlohmann::json run_autograd_bench(const BenchConfig& cfg) {
  // On a GPU the same cases add the launch and the device allocator to the tape's cost.
  Tensor x = ops::randn({1}, DType::f32, cfg.device);
  Tensor w = ops::randn({1}, DType::f32, cfg.device);
  x.requires_grad_();
  w.requires_grad_();
  nlohmann::json results = nlohmann::json::array();

  // The op alone: same tensors, grad mode off.
  Tensor sink;
  Timing kernel = time_ms(
      [&] {
        NoGradGuard no_grad;
        for (int i = 0; i < kChain; ++i) sink = gau::mul(x, w);
      },
      cfg);
  results.push_back(per_op("kernel", kernel, kChain));

  // The op plus its node; each result is dropped at once, so the tape never grows.
  Timing record = time_ms(
      [&] {
        for (int i = 0; i < kChain; ++i) sink = gau::mul(x, w);
      },
      cfg);
  results.push_back(per_op("record", record, kChain));
  sink = Tensor();

  // The backward walk alone: each timed backward gets a chain built untimed just before it (the
  // cases above have warmed the process up).
  std::vector<double> walk_ms;
  for (int r = 0; r < cfg.repeats; ++r) {
    Tensor root = chain(x, w);
    synchronize(cfg.device);
    auto start = std::chrono::steady_clock::now();
    root.backward();
    synchronize(cfg.device);
    walk_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  results.push_back(per_op("backward", summarise(std::move(walk_ms)), kChain));

  // Recording plus backward of the whole graph.
  Timing graph = time_ms([&] { chain(x, w).backward(); }, cfg);
  nlohmann::json g = per_op("graph_1000", graph, kChain);
  g["ms"] = graph.median_ms;
  results.push_back(g);
  results.push_back(weight_grad_sink(cfg));
  return results;
}

}  // namespace gau::bench
