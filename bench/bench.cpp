#include "bench/bench.h"

#include <algorithm>
#include <chrono>

#include "core/stream.h"

namespace gau::bench {

Timing summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Timing t;
  t.repeats = static_cast<int>(ms.size());
  if (ms.empty()) return t;
  size_t mid = ms.size() / 2;
  t.median_ms = ms.size() % 2 ? ms[mid] : 0.5 * (ms[mid - 1] + ms[mid]);
  t.min_ms = ms.front();
  t.max_ms = ms.back();
  return t;
}

std::vector<Timing> time_interleaved(const std::vector<std::function<void()>>& fns, const BenchConfig& cfg) {
  using clock = std::chrono::steady_clock;
  if (cfg.warmup_s > 0) {
    // Whole rounds, synchronised, until warmup_s has passed: every function runs at least once,
    // and queued device work counts towards the time only once it has finished.
    const auto start = clock::now();
    do {
      for (const auto& fn : fns) fn();
      synchronize(cfg.device);
    } while (std::chrono::duration<double>(clock::now() - start).count() < cfg.warmup_s);
  }
  synchronize(cfg.device);  // the first timed run starts on an idle device, warm-up or not
  std::vector<std::vector<double>> samples(fns.size());
  for (int r = 0; r < std::max(cfg.repeats, 1); ++r) {
    // Odd rounds run the functions in reverse order, so none always runs right after another
    // (whose cache or frequency state it would inherit).
    for (size_t k = 0; k < fns.size(); ++k) {
      size_t i = r % 2 ? fns.size() - 1 - k : k;
      auto start = clock::now();
      fns[i]();
      synchronize(cfg.device);
      samples[i].push_back(std::chrono::duration<double, std::milli>(clock::now() - start).count());
    }
  }
  std::vector<Timing> out;
  for (auto& s : samples) out.push_back(summarise(std::move(s)));
  return out;
}

Timing time_ms(const std::function<void()>& fn, const BenchConfig& cfg) { return time_interleaved({fn}, cfg)[0]; }

nlohmann::json to_json(const Timing& t) {
  return {{"median_ms", t.median_ms}, {"min_ms", t.min_ms}, {"max_ms", t.max_ms}, {"repeats", t.repeats}};
}

std::vector<int64_t> pick_sizes(const BenchConfig& cfg, const std::vector<int64_t>& defaults, int64_t quick_size) {
  if (!cfg.sizes.empty()) return cfg.sizes;
  if (cfg.quick) return {quick_size};
  return defaults;
}

}  // namespace gau::bench
