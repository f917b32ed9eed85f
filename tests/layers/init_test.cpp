// Initialisers: statistics on large tensors, truncation bounds, fans and gains, determinism.
#include "layers/init.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ops/factory.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;

struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
};

Stats stats_of(const Tensor& t) {
  const std::vector<double> v = test::values(t);
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size()));
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

// 2^18 samples: the standard error of the mean is std / 512, of the std about std / 724.
constexpr int64_t kRows = 512, kCols = 512;

TEST(Init, NormalAndUniformStatistics) {
  Generator gen(1);
  Tensor t = ops::empty({kRows, kCols});
  init::normal_(t, 0.5, 2.0, gen);
  Stats s = stats_of(t);
  EXPECT_NEAR(s.mean, 0.5, 0.02);
  EXPECT_NEAR(s.std, 2.0, 0.02);
  init::uniform_(t, -3, 1, gen);
  s = stats_of(t);
  EXPECT_NEAR(s.mean, -1.0, 0.02);
  EXPECT_NEAR(s.std, 4 / std::sqrt(12.0), 0.01);
  EXPECT_GE(s.min, -3.0);
  EXPECT_LT(s.max, 1.0);
}

TEST(Init, TruncatedNormalResamplesInsideTheBounds) {
  Generator gen(2);
  Tensor t = ops::empty({kRows, kCols}, DType::f64);
  init::truncated_normal_(t, 0.1, -2, 2, 0.0, gen);
  Stats s = stats_of(t);
  EXPECT_GE(s.min, -0.2);
  EXPECT_LE(s.max, 0.2);
  EXPECT_LT(s.min, -0.199) << "the tails reach the bounds";
  // Resampled (not clamped): no mass piles up at the bounds, and the std is that of the truncated
  // normal, sigma * sqrt(1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2))) = 0.879626 sigma.
  const std::vector<double> v = test::values(t);
  EXPECT_LT(std::count_if(v.begin(), v.end(), [](double x) { return std::abs(x) >= 0.2 - 1e-12; }), 3);
  EXPECT_NEAR(s.std, 0.1 * 0.879626, 0.001);
  EXPECT_NEAR(s.mean, 0.0, 0.001);
  // Asymmetric bounds around a mean.
  init::truncated_normal_(t, 1.0, -1, 3, 5.0, gen);
  s = stats_of(t);
  EXPECT_GE(s.min, 4.0);
  EXPECT_LE(s.max, 8.0);
  EXPECT_NE(error_of([&] { init::truncated_normal_(t, 1.0, 5, 9); }).find("mass"), std::string::npos);
  EXPECT_NE(error_of([&] { init::truncated_normal_(t, 1.0, 2, -2); }).find("empty"), std::string::npos);
}

TEST(Init, FansAndGains) {
  Tensor w = ops::empty({300, 200});
  EXPECT_EQ(init::fan_in(w), 200);
  EXPECT_EQ(init::fan_out(w), 300);
  Tensor conv = ops::empty({8, 4, 3, 3});
  EXPECT_EQ(init::fan_in(conv), 36);
  EXPECT_EQ(init::fan_out(conv), 72);
  EXPECT_DOUBLE_EQ(init::gain(init::Nonlinearity::relu), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::gain(init::Nonlinearity::linear), 1.0);
}

TEST(Init, XavierAndKaimingScales) {
  Generator gen(3);
  Tensor w = ops::empty({600, 400});
  init::xavier_uniform_(w, 1.0, gen);
  Stats s = stats_of(w);
  const double a = std::sqrt(6.0 / 1000.0);
  EXPECT_LE(s.max, a);
  EXPECT_GE(s.min, -a);
  EXPECT_NEAR(s.std, a / std::sqrt(3.0), 0.002);
  init::xavier_normal_(w, 2.0, gen);
  EXPECT_NEAR(stats_of(w).std, 2.0 * std::sqrt(2.0 / 1000.0), 0.0005);
  init::kaiming_uniform_(w, init::FanMode::fan_in, init::Nonlinearity::relu, gen);
  s = stats_of(w);
  EXPECT_LE(s.max, std::sqrt(2.0) * std::sqrt(3.0 / 400.0));
  EXPECT_NEAR(s.std, std::sqrt(2.0 / 400.0), 0.0005);
  init::kaiming_normal_(w, init::FanMode::fan_out, init::Nonlinearity::linear, gen);
  EXPECT_NEAR(stats_of(w).std, 1.0 / std::sqrt(600.0), 0.0005);
}

TEST(Init, ConstantsAndGauInits) {
  Tensor t = ops::empty({100000});
  init::ones_(t);
  EXPECT_EQ(stats_of(t).min, 1.0);
  init::constant_(t, -2.5);
  EXPECT_EQ(stats_of(t).max, -2.5);
  init::zeros_(t);
  EXPECT_EQ(stats_of(t).max, 0.0);
  Generator gen(4);
  Tensor gamma = ops::empty({kRows * kCols});
  init::gau_gamma_(gamma, gen);
  Stats s = stats_of(gamma);
  EXPECT_NEAR(s.std, 0.02, 0.0002);
  EXPECT_NEAR(s.mean, 0.0, 0.0002);
  init::gau_beta_(gamma);
  EXPECT_EQ(stats_of(gamma).max, 0.0);
  EXPECT_NE(error_of([] { init::zeros_(ops::zeros({2}, DType::i64)); }).find("floating"), std::string::npos);
}

TEST(Init, SeededAndDeterministic) {
  using Fill = void (*)(const Tensor&, Generator&);
  const std::vector<std::pair<std::string, Fill>> fills = {
      {"normal", [](const Tensor& t, Generator& g) { init::normal_(t, 0, 1, g); }},
      {"truncated", [](const Tensor& t, Generator& g) { init::truncated_normal_(t, 1, -2, 2, 0, g); }},
      {"uniform", [](const Tensor& t, Generator& g) { init::uniform_(t, 0, 1, g); }},
      {"xavier", [](const Tensor& t, Generator& g) { init::xavier_uniform_(t, 1, g); }},
      {"kaiming", [](const Tensor& t, Generator& g) {
         init::kaiming_normal_(t, init::FanMode::fan_in, init::Nonlinearity::relu, g);
       }}};
  for (const auto& [name, fill] : fills) {
    Tensor a = ops::empty({33, 17}), b = ops::empty({33, 17}), c = ops::empty({33, 17});
    Generator g1(7), g2(7), g3(8);
    fill(a, g1);
    fill(b, g2);
    fill(c, g3);
    EXPECT_EQ(test::values(a), test::values(b)) << name << ": same seed, different values";
    EXPECT_NE(test::values(a), test::values(c)) << name << ": different seeds, same values";
    fill(b, g2);
    EXPECT_NE(test::values(a), test::values(b)) << name << ": the generator did not advance";
  }
}

}  // namespace
}  // namespace gau::layers
