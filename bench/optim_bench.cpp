#include "bench/optim_bench.h"

#include <omp.h>

#include <cstring>
#include <memory>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/flat_parameters.h"
#include "optim/adam.h"

namespace gau::bench {

namespace {

struct OneParameter : layers::Module {
  OneParameter(int64_t n, Device device) : Module("OneParameter") {
    register_parameter("w", ops::randn({n}, DType::f32, device));
  }
};

// Seconds of a copy of `bytes` bytes (read + write = 2 × bytes moved).
Timing copy_timing(const Tensor& src, const Tensor& dst, const BenchConfig& cfg, std::string& name) {
  if (cfg.device.is_cuda()) {
    name = "copy_";
    return time_ms([&] { ops::copy_(dst, src); }, cfg);
  }
  const char* s = static_cast<const char*>(src.data_ptr());
  char* d = static_cast<char*>(dst.data_ptr());
  const size_t total = src.nbytes();
  auto serial = [&] { std::memcpy(d, s, total); };
  auto parallel = [&] {
#pragma omp parallel
    {
      const size_t parts = static_cast<size_t>(omp_get_num_threads()), i = static_cast<size_t>(omp_get_thread_num());
      const size_t begin = total * i / parts, end = total * (i + 1) / parts;
      std::memcpy(d + begin, s + begin, end - begin);
    }
  };
  auto t = time_interleaved({serial, parallel}, cfg);
  name = t[1].median_ms < t[0].median_ms ? "memcpy_omp" : "memcpy";
  return t[1].median_ms < t[0].median_ms ? t[1] : t[0];
}

nlohmann::json adamw_case(int64_t n, const BenchConfig& cfg) {
  OneParameter model(n, cfg.device);
  layers::FlatParameters flat(model);
  ops::copy_(flat.groups()[0].grads, ops::randn({flat.groups()[0].grads.numel()}, DType::f32, cfg.device));
  optim::Adam adamw(flat, {.lr = 1e-4, .beta2 = 0.95, .weight_decay = 0.1, .decoupled = true});
  const double bytes = 7.0 * 4.0 * static_cast<double>(n);
  const Timing step = time_ms([&] { adamw.step(); }, cfg);
  // The same bytes moved by a copy: 3.5 n floats read and written (dst zeroed, so that its pages
  // are mapped before any timing, as the optimizer's buffers are).
  Tensor src = ops::randn({7 * n / 2}, DType::f32, cfg.device), dst = ops::zeros({7 * n / 2}, DType::f32, cfg.device);
  std::string ref_name;
  const Timing copy = copy_timing(src, dst, cfg, ref_name);
  const double gbps = gb_per_s(bytes, step.median_ms), ref_gbps = gb_per_s(2.0 * src.nbytes(), copy.median_ms);
  return {{"name", "adamw_step"},
          {"dtype", "f32"},
          {"params", n},
          {"threads", cfg.device.is_cuda() ? 0 : omp_get_max_threads()},
          {"gau", to_json(step)},
          {"bytes", bytes},
          {"gbps", gbps},
          {"reference", ref_name},
          {ref_name, to_json(copy)},
          {"reference_gbps", ref_gbps},
          {"fraction_of_reference", gbps / ref_gbps}};
}

}  // namespace

nlohmann::json run_optim_bench(const BenchConfig& cfg) {
  nlohmann::json results = nlohmann::json::array();
  for (int64_t n : pick_sizes(cfg, {10'000'000, 100'000'000}, 1'000'000)) results.push_back(adamw_case(n, cfg));
  return results;
}

}  // namespace gau::bench
