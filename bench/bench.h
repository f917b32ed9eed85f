#pragma once
// The framework behind `gau bench <family>`: timing (warm-up, repeats, median) and the record
// format every benchmark family returns.
//
// A family is one function in bench/<family>_bench.h:
//     nlohmann::json run_<family>_bench(const gau::bench::BenchConfig& cfg);
// returning a JSON array with one object per measured case, e.g.
//     {"name": "matmul", "shape": [512, 512, 512], "dtype": "f32", "gau": {timing...}, "gflops": 812.4}
// apps/bench_command.cpp wraps it with the machine description and prints it (JSON or a table).
// A family that runs on several ranks (under mpirun) returns null on every rank but 0, which
// then prints nothing: one report per run.
// A PyTorch comparison for the GPU is a script bench/<family>_torch_gpu.py that, run as
// `python3 bench/<family>_torch_gpu.py --json`, prints one JSON document to stdout with the same
// case names; scripts/device-check.sh runs every such script beside `gau bench <family>`, and
// adds --quick when it runs gau's with --quick and the script takes it (the script's cases are
// then those of `gau bench <family> --quick`).
// Timings are host wall-clock around the work, with the device synchronised before and after
// every repeat, so asynchronous CUDA work is counted in full.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"

namespace gau::bench {

struct BenchConfig {
  Device device = Device::cpu();
  // Untimed warm-up before each timing, in seconds: the functions run (at least once each) until
  // this much time has passed. By time, not by count: a fresh process can stall for its first
  // calls for 1-2 s (page faults, thread pools starting, lazy CUDA and library set-up), and a
  // fixed number of warm-up calls can end inside that stall and leave it in the timings. 0 = none.
  double warmup_s = 1.0;
  int repeats = 10;            // timed runs; the median is the headline figure
  bool quick = false;          // the family's smallest cases only: a smoke run that finishes in seconds
  std::vector<int64_t> sizes;  // overrides the family's default sizes when not empty
};

struct Timing {
  double median_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  int repeats = 0;
};

// Warms `fn` up for cfg.warmup_s, then times it cfg.repeats times; reports over the timed runs.
Timing time_ms(const std::function<void()>& fn, const BenchConfig& cfg);

// Times several functions interleaved: each round runs every function once, in turn (reversed
// every other round), so drift in clocks or machine load falls on all of them alike. Use it for
// "ours versus baseline".
std::vector<Timing> time_interleaved(const std::vector<std::function<void()>>& fns, const BenchConfig& cfg);

// Median, min and max of samples timed by hand (a case whose untimed setup must run between
// repeats, which time_ms cannot do).
Timing summarise(std::vector<double> samples_ms);

nlohmann::json to_json(const Timing& t);

// Bytes moved per millisecond, in GB/s (1e9 bytes).
inline double gb_per_s(double bytes, double ms) { return ms > 0 ? bytes / (ms * 1e6) : 0; }
// Floating-point operations per millisecond, in GFLOP/s.
inline double gflop_per_s(double flops, double ms) { return ms > 0 ? flops / (ms * 1e6) : 0; }

// cfg.sizes when given; else {quick_size} when cfg.quick; else `defaults`.
std::vector<int64_t> pick_sizes(const BenchConfig& cfg, const std::vector<int64_t>& defaults, int64_t quick_size);

}  // namespace gau::bench
