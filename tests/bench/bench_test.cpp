// The benchmark timer: warm-up is by time (at least warmup_s, at least one call), so calls that
// stall at first land in the warm-up and not in the timings.
#include "bench/bench.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace gau;
using namespace std::chrono_literals;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(BenchWarmup, RunsEveryFunctionAtLeastOnce) {
  bench::BenchConfig cfg;
  cfg.warmup_s = 1e-9;  // over before the first call returns
  cfg.repeats = 3;
  int a = 0, b = 0;
  bench::time_interleaved({[&] { ++a; }, [&] { ++b; }}, cfg);
  EXPECT_EQ(a, 1 + 3);
  EXPECT_EQ(b, 1 + 3);
}

TEST(BenchWarmup, ZeroSecondsIsNoWarmup) {
  bench::BenchConfig cfg;
  cfg.warmup_s = 0;
  cfg.repeats = 1;
  int calls = 0;
  bench::time_ms([&] { ++calls; }, cfg);
  EXPECT_EQ(calls, 1);
}

// A process whose first calls stall: here the first 4 calls sleep 100 ms, later ones 1 ms. A
// warm-up of 3 calls (the old default count) would time the 4th stall; 0.5 s of warm-up absorbs
// all four.
TEST(BenchWarmup, StallingFirstCallsStayOutOfTheTimings) {
  bench::BenchConfig cfg;
  cfg.warmup_s = 0.5;
  cfg.repeats = 5;
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  bench::Timing t = bench::time_ms([&] { std::this_thread::sleep_for(++calls <= 4 ? 100ms : 1ms); }, cfg);
  EXPECT_GE(seconds_since(start), 0.5);
  EXPECT_GT(calls, 4 + 5);  // the warm-up went on past the stalls, for at least 0.5 s in all
  EXPECT_EQ(t.repeats, 5);
  EXPECT_LT(t.max_ms, 50.0) << "a stalled call was timed: median " << t.median_ms << " ms, max " << t.max_ms << " ms";
  EXPECT_GE(t.min_ms, 1.0);
}
