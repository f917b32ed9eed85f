#include "bench/attention_bench.h"

#include <omp.h>

#include <exception>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "core/ops/factory.h"
#include "layers/attention/attention.h"

namespace gau::bench {

namespace {

struct AttentionCase {
  int64_t b, h, n, s, e;
  DType dtype;
  attention::Kernel kernel;
  bool causal;
};

nlohmann::json measure(const AttentionCase& c, const BenchConfig& cfg) {
  const Device dev = cfg.device;
  Tensor q = ops::randn({c.b, c.h, c.n, c.s}, c.dtype, dev).requires_grad_();
  Tensor k = ops::randn({c.b, c.h, c.n, c.s}, c.dtype, dev).requires_grad_();
  Tensor v = ops::randn({c.b, c.h, c.n, c.e}, c.dtype, dev).requires_grad_();
  Tensor d_o = ops::randn({c.b, c.h, c.n, c.e}, c.dtype, dev);
  attention::AttentionOptions opt;
  opt.kernel = c.kernel;
  opt.causal = c.causal;

  nlohmann::json rec = {{"name", "attention"}, {"kernel", attention::kernel_name(c.kernel)},
                        {"causal", c.causal},  {"b", c.b},
                        {"h", c.h},            {"n", c.n},
                        {"s", c.s},            {"e", c.e},
                        {"dtype", dtype_name(c.dtype)}};
  if (dev.is_cpu()) rec["threads"] = omp_get_max_threads();
  const Timing fwd = time_ms(
      [&] {
        NoGradGuard no_grad;
        Tensor o = attention::dot_product_attention(q, k, v, opt);
      },
      cfg);
  // Backward alone: one recorded forward, then backward passes over the retained graph.
  Tensor o = attention::dot_product_attention(q, k, v, opt);
  const Timing bwd = time_ms([&] { o.backward(d_o, /*retain_graph=*/true); }, cfg);
  o = Tensor();

  synchronize(dev);
  const size_t base = memory_stats(dev).current;
  reset_peak_memory(dev);
  {
    Tensor o2 = attention::dot_product_attention(q, k, v, opt);
    o2.backward(d_o);
  }
  synchronize(dev);
  rec["peak_bytes"] = memory_stats(dev).peak - base;

  const double pairs = static_cast<double>(c.b * c.h) * c.n * c.n * (c.causal ? 0.5 : 1.0);
  const double fwd_flops = 2.0 * pairs * static_cast<double>(c.s + c.e);
  const double bwd_flops = 2.0 * pairs * static_cast<double>(3 * c.s + 2 * c.e);
  rec["forward"] = to_json(fwd);
  rec["backward"] = to_json(bwd);
  if (dev.is_cpu()) {
    rec["forward_gflops"] = gflop_per_s(fwd_flops, fwd.median_ms);
    rec["backward_gflops"] = gflop_per_s(bwd_flops, bwd.median_ms);
  } else {
    rec["forward_tflops"] = gflop_per_s(fwd_flops, fwd.median_ms) / 1e3;
    rec["backward_tflops"] = gflop_per_s(bwd_flops, bwd.median_ms) / 1e3;
  }
  return rec;
}

// A case that fails (out of memory, unsupported on this backend) is reported, not fatal.
nlohmann::json measure_or_error(const AttentionCase& c, const BenchConfig& cfg) {
  try {
    return measure(c, cfg);
  } catch (const std::exception& err) {
    return {{"name", "attention"}, {"kernel", attention::kernel_name(c.kernel)}, {"causal", c.causal},
            {"n", c.n},           {"s", c.s},
            {"e", c.e},           {"error", err.what()}};
  }
}

}  // namespace

nlohmann::json run_attention_bench(const BenchConfig& cfg) {
  const bool gpu = cfg.device.is_cuda();
  const std::vector<int64_t> defaults = gpu ? std::vector<int64_t>{512, 1024, 2048, 4096, 8192, 16384}
                                            : std::vector<int64_t>{512, 1024, 2048, 4096};
  const int64_t h = gpu ? 16 : 8, d = gpu ? 128 : 64;
  const DType dtype = gpu ? DType::bf16 : DType::f32;
  nlohmann::json out = nlohmann::json::array();
  for (int64_t n : pick_sizes(cfg, defaults, 512))
    for (attention::Kernel kernel : {attention::Kernel::softmax, attention::Kernel::relu2})
      for (bool causal : {false, true}) out.push_back(measure_or_error({1, h, n, d, d, dtype, kernel, causal}, cfg));
  if (gpu && !cfg.quick) {
    // The GAU layer's own attention: one head, s = 128, values e = 1024 wide.
    for (int64_t n : {int64_t{4096}, int64_t{65536}})
      out.push_back(measure_or_error({1, 1, n, 128, 1024, dtype, attention::Kernel::relu2, false}, cfg));
  }
  return out;
}

}  // namespace gau::bench
