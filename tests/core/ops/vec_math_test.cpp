// The vectorised f32 exp of core/ops/cpu/vec_math.h against a double-precision std::exp over a
// dense sweep of its whole range, its edges (infinities, NaN, overflow, denormal results), and
// the row helpers built on it (tails of every length, sums, max).
#include "core/ops/cpu/vec_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

using gau::ops::cpu::exp_approx;
using gau::ops::cpu::exp_row;
using gau::ops::cpu::exp_shifted_sum;
using gau::ops::cpu::exp_shifted_total;
using gau::ops::cpu::row_max;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kMinNormal = std::numeric_limits<float>::min();
constexpr double kDenormStep = std::numeric_limits<float>::denorm_min();

// Relative error bound where exp(x) is a normal float (about 1.5 ulp of f32).
constexpr double kMaxRel = 2e-7;

// Every x = lo + i (hi - lo) / (n - 1): 2^22 points, a spacing of about 4.6e-5 across [-104, 89].
std::vector<float> sweep(float lo, float hi, int64_t n) {
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(lo + (static_cast<double>(hi) - lo) * i / (n - 1));
  return x;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

}  // namespace

TEST(VecMath, ExpMatchesStdExpOverDenseSweep) {
  const std::vector<float> x = sweep(-104.0f, 89.0f, int64_t{1} << 22);
  std::vector<float> vec(x.size());
  exp_row(x.data(), vec.data(), static_cast<int64_t>(x.size()));
  double worst_rel = 0, worst_denorm = 0;
  float worst_x = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    const float scalar = exp_approx(x[i]);
    ASSERT_TRUE(same_bits(scalar, vec[i])) << "x " << x[i] << ": scalar " << scalar << " vector " << vec[i];
    if (want > std::numeric_limits<float>::max()) {
      // Beyond FLT_MAX: +inf, unless the true value still rounds down to FLT_MAX.
      EXPECT_TRUE(std::isinf(scalar) || want < std::numeric_limits<float>::max() * (1 + 1e-7)) << x[i];
    } else if (want >= kMinNormal) {
      const double rel = std::abs(scalar - want) / want;
      if (rel > worst_rel) worst_rel = rel, worst_x = x[i];
    } else {
      worst_denorm = std::max(worst_denorm, std::abs(scalar - want) / kDenormStep);
    }
  }
  EXPECT_LE(worst_rel, kMaxRel) << "at x = " << worst_x;
  // Denormal results carry fewer bits; they are off by at most one step of the denormal grid.
  EXPECT_LE(worst_denorm, 1.0);
  std::printf("exp_approx: max rel error %.3g (x = %.9g), max denormal error %.3g steps\n", worst_rel, worst_x,
              worst_denorm);
}

TEST(VecMath, ExpSmallArgumentsAndExactPoints) {
  // Near 0 exp(x) ~ 1 + x: the reduction must not lose x's low bits.
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 1e-3f, -1e-3f, 0.5f, 1.0f, -1.0f}) {
    const double want = std::exp(static_cast<double>(x));
    EXPECT_LE(std::abs(exp_approx(x) - want) / want, kMaxRel) << x;
  }
  EXPECT_EQ(exp_approx(0.0f), 1.0f);
}

TEST(VecMath, ExpEdges) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {-kInf,
                                kInf,
                                nan,
                                -1e30f,
                                1e30f,
                                -200.0f,
                                200.0f,
                                88.72283f,
                                88.7229f,
                                -103.0f,
                                -104.5f,
                                -87.5f,
                                std::numeric_limits<float>::lowest(),
                                std::numeric_limits<float>::max(),
                                -nan};
  // Padded to a full vector and more, so every edge also goes through the 8-lane path.
  std::vector<float> in(x), out(x.size());
  exp_row(in.data(), out.data(), static_cast<int64_t>(in.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const float s = exp_approx(x[i]);
    EXPECT_TRUE(same_bits(s, out[i]) || (std::isnan(s) && std::isnan(out[i]))) << x[i];
    const float want = std::exp(x[i]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(s)) << x[i];
    } else if (std::isinf(want) || want == 0.0f) {
      EXPECT_EQ(s, want) << x[i];
    } else {
      EXPECT_LE(std::abs(s - static_cast<double>(want)), std::max(kMaxRel * want, kDenormStep)) << x[i];
    }
  }
  EXPECT_EQ(exp_approx(-kInf), 0.0f);
  EXPECT_EQ(exp_approx(kInf), kInf);
  EXPECT_EQ(exp_approx(88.7229f), kInf);  // exp(88.7229) > FLT_MAX
  EXPECT_TRUE(std::isfinite(exp_approx(88.72283f)));
  EXPECT_GT(exp_approx(-103.0f), 0.0f);  // a denormal, not flushed
  EXPECT_EQ(exp_approx(-104.5f), 0.0f);
}

TEST(VecMath, RowHelpersEveryTailLength) {
  for (int64_t n = 0; n <= 41; ++n) {
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::sin(0.7 * i) * 20.0 - 3.0);
    double want_max = -kInf;
    for (float v : x) want_max = std::max<double>(want_max, v);
    EXPECT_EQ(row_max(x.data(), n), static_cast<float>(want_max)) << n;

    const float shift = n ? static_cast<float>(want_max) : 0.0f;
    double want_sum = 0;
    for (float v : x) want_sum += std::exp(static_cast<double>(v) - shift);
    std::vector<float> y(n);
    const float sum = exp_shifted_sum(x.data(), y.data(), n, shift);
    EXPECT_NEAR(sum, want_sum, 1e-6 * (1 + want_sum)) << n;
    EXPECT_NEAR(exp_shifted_total(x.data(), n, shift), want_sum, 1e-6 * (1 + want_sum)) << n;
    for (int64_t i = 0; i < n; ++i) EXPECT_TRUE(same_bits(y[i], exp_approx(x[i] - shift))) << n << " " << i;

    std::vector<float> inplace(x);
    EXPECT_EQ(exp_shifted_sum(inplace.data(), n, shift), sum) << n;
    for (int64_t i = 0; i < n; ++i) EXPECT_TRUE(same_bits(inplace[i], y[i])) << n << " " << i;
  }
}

TEST(VecMath, RowMaxSkipsNanAndHandlesInfinities) {
  std::vector<float> x(19, -kInf);
  EXPECT_EQ(row_max(x.data(), 19), -kInf);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[11] = 2.5f;
  x[17] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(row_max(x.data(), 19), 2.5f);
  x[18] = kInf;
  EXPECT_EQ(row_max(x.data(), 19), kInf);
}

TEST(VecMath, DoubleOverloadsUseStdExp) {
  std::vector<double> x = {-1.5, 0.0, 2.25, -700.0, 3.0};
  std::vector<double> y(x.size());
  const double sum = exp_shifted_sum(x.data(), y.data(), 5, 1.0);
  double want = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(y[i], std::exp(x[i] - 1.0));
    want += std::exp(x[i] - 1.0);
  }
  EXPECT_EQ(sum, want);
  EXPECT_EQ(row_max(x.data(), 5), 3.0);
}

// SiLU of x + b and its derivative against double precision over [-100, 100] (sigmoid saturates
// long before either end), for every tail length of the 8-lane loop, and NaN passed through. Below
// v = -85 the true values are under 1e-35, in or near float denormals, where only an absolute
// bound means anything.
TEST(VecMath, SiluBiasRowsMatchDoublePrecision) {
  using gau::ops::cpu::silu_bias_grad_row;
  using gau::ops::cpu::silu_bias_row;
  const int64_t n = 4003;
  std::vector<float> x(n), b(n), d_y(n), y(n), d_x(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = -100.0f + 200.0f * static_cast<float>(i) / static_cast<float>(n - 1);
    b[i] = 0.25f * static_cast<float>(i % 7) - 0.75f;
    d_y[i] = 1.0f + 0.001f * static_cast<float>(i % 13);
  }
  silu_bias_row(x.data(), b.data(), y.data(), n);
  silu_bias_grad_row(x.data(), b.data(), d_y.data(), d_x.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i] + b[i]);
    const double s = 1.0 / (1.0 + std::exp(-v));
    const double want_y = v * s, want_dx = static_cast<double>(d_y[i]) * s * (1.0 + v * (1.0 - s));
    EXPECT_NEAR(y[i], want_y, 4e-7 * std::abs(want_y) + 1e-35) << "v = " << v;
    // The derivative's 1 - s cancels for v > 0 (as in the shared formula of scalar_math.h): a few
    // ulp of s become ~1e-6 of the result near v = 5 whatever the exp.
    EXPECT_NEAR(d_x[i], want_dx, 2e-6 * std::abs(want_dx) + 1e-35) << "v = " << v;
  }
  for (int64_t len = 1; len <= 17; ++len) {  // every tail: the vector and scalar paths agree
    std::vector<float> tail(len);
    silu_bias_row(x.data() + 1000, b.data() + 1000, tail.data(), len);
    for (int64_t i = 0; i < len; ++i) EXPECT_NEAR(tail[i], y[1000 + i], 2e-7 * std::abs(y[1000 + i])) << len;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xn(9, 1.0f), bn(9, 0.0f), yn(9);
  xn[2] = nan;
  xn[8] = nan;
  silu_bias_row(xn.data(), bn.data(), yn.data(), 9);
  EXPECT_TRUE(std::isnan(yn[2]));
  EXPECT_TRUE(std::isnan(yn[8]));
  EXPECT_NEAR(yn[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-7);
}
