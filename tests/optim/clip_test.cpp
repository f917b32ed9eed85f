// Clipping over the flat gradient buffers: the norm against a naive f64 one over the parameters'
// own gradients (so the zero gaps add nothing), exact scaling above max_norm and none at or
// below it, value clipping against a naive clamp, config errors naming the key.
#include "optim/clip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/ops/view.h"
#include "tests/optim/grad_buffers.h"
#include "tests/support/checks.h"

namespace gau::optim {
namespace {

using test::error_of;
using ::testing::HasSubstr;

// Sizes that end mid-chunk, and one large enough for the OpenMP team (kParallelMin).
const std::vector<test::ParamSpec> kMixed = {{{7, 5}}, {{3}}, {{33, 65}}, {{140001}}, {{2, 2}, DType::bf16}};

// v rounded to `dt` (f32, bf16 or f16), round-to-nearest-even as the kernels do.
double round_to(DType dt, float v) {
  if (dt == DType::bf16) return static_cast<float>(bfloat16(v));
  if (dt == DType::f16) return static_cast<float>(float16(v));
  return v;
}

// kMixed's shapes, all of dtype `dt`, flattened with gradients of that dtype.
test::FlatModel all_of(DType dt, uint64_t seed) {
  std::vector<test::ParamSpec> specs = kMixed;
  for (test::ParamSpec& p : specs) p.dtype = dt;
  return test::flat_model(specs, Device::cpu(), seed, 1.0, std::nullopt);
}

TEST(Clip, SumSquaresMatchesNaiveF64ForEveryFloatingDtype) {
  for (DType dt : test::kFloatTypes) {
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{1000}, int64_t{16385}, int64_t{400003}}) {
      const Tensor g = test::randn({n}, dt, 7);
      double want = 0;
      for (double v : test::values(g)) want += v * v;
      EXPECT_NEAR(sum_squares(g).item(), want, 1e-12 * want) << dtype_name(dt) << " n=" << n;
    }
  }
}

TEST(Clip, GlobalNormOverGroupsIgnoresTheGaps) {
  test::FlatModel m = test::flat_model(kMixed, Device::cpu(), 1);
  ASSERT_EQ(m.flat.groups().size(), 2u) << "f32 and bf16 parameters: two groups";
  int64_t gaps = 0;
  for (const layers::FlatGroup& g : m.flat.groups()) {
    int64_t used = 0;
    for (const layers::FlatEntry& e : g.entries) used += e.numel;
    gaps += g.grads.numel() - used;
  }
  ASSERT_GT(gaps, 0) << "the layout has gaps for this test to mean something";
  const double want = std::sqrt(test::naive_sum_squares(m.flat));
  EXPECT_NEAR(grad_norm(m.flat), want, 1e-12 * want);
}

TEST(Clip, ScalesExactlyToMaxNormWhenAbove) {
  for (DType gd : {DType::f32, DType::bf16, DType::f16}) {
    test::FlatModel m = all_of(gd, 2);
    const std::vector<std::vector<double>> before = test::grad_values(m.flat);
    const double norm = grad_norm(m.flat);
    const double max_norm = norm / 3;
    EXPECT_EQ(clip_grad_norm(m.flat, max_norm), norm) << "returns the norm before clipping";
    const float coef = static_cast<float>(max_norm / norm);
    const std::vector<std::vector<double>> after = test::grad_values(m.flat);
    for (size_t gi = 0; gi < after.size(); ++gi) {
      for (size_t i = 0; i < after[gi].size(); ++i) {
        // The product in f32, rounded once to the buffer's dtype.
        const double want = round_to(gd, static_cast<float>(before[gi][i]) * coef);
        ASSERT_EQ(after[gi][i], want) << dtype_name(gd) << " group " << gi << " element " << i;
      }
    }
    const double tol = gd == DType::f32 ? 1e-6 : 1e-2;
    EXPECT_NEAR(grad_norm(m.flat), max_norm, tol * max_norm) << dtype_name(gd);
  }
}

TEST(Clip, LeavesGradientsBitwiseAloneAtOrBelowMaxNorm) {
  test::FlatModel m = test::flat_model(kMixed, Device::cpu(), 3);
  const std::vector<std::vector<double>> before = test::grad_values(m.flat);
  const double norm = grad_norm(m.flat);
  EXPECT_EQ(clip_grad_norm(m.flat, 2 * norm), norm);
  EXPECT_EQ(clip_grad_norm(m.flat, norm), norm);
  EXPECT_EQ(test::grad_values(m.flat), before);
}

TEST(Clip, ANonFiniteNormIsReportedAndScalesNothing) {
  test::FlatModel m = test::flat_model(kMixed, Device::cpu(), 4);
  const layers::FlatEntry& e = m.flat.groups()[0].entries[1];
  ops::fill_(e.param.grad(), std::numeric_limits<double>::infinity());
  const std::vector<std::vector<double>> before = test::grad_values(m.flat);
  EXPECT_TRUE(std::isinf(clip_grad_norm(m.flat, 1.0)));
  EXPECT_EQ(test::grad_values(m.flat), before);
  ops::fill_(e.param.grad(), std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(std::isnan(clip_grad_norm(m.flat, 1.0)));
}

TEST(Clip, ByValueClampsLikeANaiveClampAndKeepsNaN) {
  for (DType gd : {DType::f32, DType::bf16, DType::f16}) {
    test::FlatModel m = all_of(gd, 5);
    ops::fill_(ops::narrow(ops::view(m.flat.groups()[0].entries[0].param.grad(), {35}), 0, 3, 1),
               std::numeric_limits<double>::quiet_NaN());
    const std::vector<std::vector<double>> before = test::grad_values(m.flat);
    clip_grad_value(m.flat, 0.5);
    const std::vector<std::vector<double>> after = test::grad_values(m.flat);
    const double hi = round_to(gd, 0.5f);
    int64_t clamped = 0;
    for (size_t gi = 0; gi < after.size(); ++gi) {
      for (size_t i = 0; i < after[gi].size(); ++i) {
        const double b = before[gi][i];
        if (std::isnan(b)) {
          EXPECT_TRUE(std::isnan(after[gi][i])) << i;
          continue;
        }
        clamped += std::abs(b) > hi;
        ASSERT_EQ(after[gi][i], std::clamp(b, -hi, hi)) << dtype_name(gd) << " group " << gi << " element " << i;
      }
    }
    EXPECT_GT(clamped, 1000) << "the test clamps something";
  }
}

TEST(Clip, ClipGradientsRunsValueThenNorm) {
  test::FlatModel a = test::flat_model(kMixed, Device::cpu(), 6), b = test::flat_model(kMixed, Device::cpu(), 6);
  clip_grad_value(b.flat, 0.5);
  const double after_value = grad_norm(b.flat);
  const double reported = clip_gradients(a.flat, {.max_norm = 10.0, .max_value = 0.5});
  EXPECT_EQ(reported, after_value);
  EXPECT_NEAR(grad_norm(a.flat), 10.0, 1e-5);
  test::FlatModel c = test::flat_model(kMixed, Device::cpu(), 6);
  EXPECT_EQ(clip_gradients(c.flat, {}), grad_norm(c.flat)) << "no clipping: the norm is still reported";
}

TEST(Clip, ConfigAndArgumentErrors) {
  auto read = [](const std::string& yaml) {
    layers::ConfigReader r(YAML::Load(yaml), "optim.clip");
    return read_clip_options(r);
  };
  const ClipOptions o = read("{max_norm: 1.5}");
  EXPECT_EQ(o.max_norm, 1.5);
  EXPECT_FALSE(o.max_value.has_value());
  EXPECT_THAT(error_of([&] { read("{max_norm: 0}"); }), HasSubstr("optim.clip.max_norm ("));
  EXPECT_THAT(error_of([&] { read("{max_value: -1}"); }), HasSubstr("optim.clip.max_value ("));
  EXPECT_THAT(error_of([&] { read("{max_nrom: 1}"); }), HasSubstr("did you mean 'max_norm'"));
  test::FlatModel m = test::flat_model(kMixed, Device::cpu(), 7);
  EXPECT_THAT(error_of([&] { clip_grad_norm(m.flat, 0); }), HasSubstr("max_norm must be finite and > 0, got 0"));
  EXPECT_THAT(error_of([&] { clip_grad_value(m.flat, -2); }), HasSubstr("max_value must be finite and > 0, got -2"));
  EXPECT_THAT(error_of([] {
                sum_squares(ops::zeros({2, 3}));
              }),
              HasSubstr("expected a contiguous [n] gradient buffer"));
}

}  // namespace
}  // namespace gau::optim
