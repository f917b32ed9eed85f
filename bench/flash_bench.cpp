#include "bench/flash_bench.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/attention/attention.h"
#include "layers/attention/flash.h"

namespace gau::bench {

namespace {

struct Shape4 {
  int64_t s, e, c;
  DType dtype;
};

// One op's forward and forward+backward timings and its peak bytes above the inputs.
// make(inputs) builds the output from leaf inputs that require grad.
nlohmann::json measure(std::vector<Tensor> inputs, const Tensor& d_o,
                       const std::function<Tensor(const std::vector<Tensor>&)>& make, const BenchConfig& cfg) {
  for (Tensor& t : inputs) t.requires_grad_(true);
  auto fwd = [&] {
    NoGradGuard guard;
    Tensor o = make(inputs);
  };
  auto fwd_bwd = [&] {
    for (const Tensor& t : inputs) t.zero_grad();
    Tensor o = make(inputs);
    o.backward(d_o);
  };
  nlohmann::json r;
  r["forward"] = to_json(time_ms(fwd, cfg));
  r["forward_backward"] = to_json(time_ms(fwd_bwd, cfg));
  synchronize(cfg.device);
  const size_t base = memory_stats(cfg.device).current;
  reset_peak_memory(cfg.device);
  fwd_bwd();
  synchronize(cfg.device);
  r["peak_bytes"] = memory_stats(cfg.device).peak - base;
  return r;
}

nlohmann::json one_size(int64_t n, const Shape4& sh, const BenchConfig& cfg) {
  const Device dev = cfg.device;
  auto rnd = [&](const gau::Shape& shape) { return ops::mul(ops::randn(shape, sh.dtype, dev), 0.5); };
  std::vector<Tensor> flash_in = {rnd({1, n, sh.s}), rnd({1, n, sh.s}), rnd({1, n, sh.s}), rnd({1, n, sh.s}),
                                  rnd({1, n, sh.e})};
  Tensor d_o = rnd({1, n, sh.e});
  attention::FlashOptions fopt;
  fopt.chunk = std::min(sh.c, n);
  fopt.causal = true;
  nlohmann::json rec = {{"name", "flash"},     {"n", n},        {"s", sh.s},    {"e", sh.e},
                        {"chunk", fopt.chunk}, {"causal", true}, {"dtype", dtype_name(sh.dtype)}};
  rec["flash"] = measure(
      flash_in, d_o,
      [&](const std::vector<Tensor>& x) { return attention::flash_attention(x[0], x[1], x[2], x[3], x[4], fopt); },
      cfg);
  // Quadratic relu^2 attention (GAU's own attention) on the same q, k, v widths.
  const bool quad_ok = dev.is_cuda() || n <= 4096 || !cfg.sizes.empty();
  if (quad_ok) {
    try {
      std::vector<Tensor> q_in = {ops::view(flash_in[0], {1, 1, n, sh.s}), ops::view(flash_in[1], {1, 1, n, sh.s}),
                                  ops::view(flash_in[4], {1, 1, n, sh.e})};
      std::vector<Tensor> leaves;
      for (const Tensor& t : q_in) leaves.push_back(t.detach());
      attention::AttentionOptions aopt;
      aopt.kernel = attention::Kernel::relu2;
      aopt.causal = true;
      Tensor d_o4 = ops::view(d_o, {1, 1, n, sh.e});
      rec["quadratic_relu2"] = measure(
          leaves, d_o4,
          [&](const std::vector<Tensor>& x) { return attention::dot_product_attention(x[0], x[1], x[2], aopt); }, cfg);
      const double f = rec["flash"]["forward_backward"]["median_ms"].get<double>();
      const double q = rec["quadratic_relu2"]["forward_backward"]["median_ms"].get<double>();
      rec["speedup_forward_backward"] = f > 0 ? q / f : 0.0;
    } catch (const std::exception& err) {
      rec["quadratic_relu2"] = {{"error", err.what()}};
    }
  } else {
    rec["quadratic_relu2"] = {{"skipped", "O(n^2) on the CPU beyond n = 4096; pass --sizes to force"}};
  }
  return rec;
}

}  // namespace

nlohmann::json run_flash_bench(const BenchConfig& cfg) {
  const bool gpu = cfg.device.is_cuda();
  const Shape4 sh = gpu ? Shape4{128, 1024, 256, DType::bf16} : Shape4{128, 256, 256, DType::f32};
  const std::vector<int64_t> defaults =
      gpu ? std::vector<int64_t>{1024, 4096, 16384, 65536} : std::vector<int64_t>{1024, 4096, 16384};
  nlohmann::json out = nlohmann::json::array();
  for (int64_t n : pick_sizes(cfg, defaults, 1024)) out.push_back(one_size(n, sh, cfg));
  return out;
}

}  // namespace gau::bench
