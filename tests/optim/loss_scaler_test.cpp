// The fp16 dynamic loss scaler: an injected inf or nan skips the step, leaves the parameters
// bitwise unchanged, halves the scale and zeroes the gradients; the scale grows after
// growth_interval good steps; unscaling equals division; state_dict resumes; config errors.
#include "optim/loss_scaler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/elementwise.h"
#include "core/ops/view.h"
#include "layers/registry.h"
#include "tests/optim/grad_buffers.h"
#include "tests/support/checks.h"

namespace gau::optim {
namespace {

using test::error_of;
using ::testing::AllOf;
using ::testing::HasSubstr;

double round_to(DType dt, double v) {
  if (dt == DType::bf16) return static_cast<float>(bfloat16(static_cast<float>(v)));
  if (dt == DType::f16) return static_cast<float>(float16(static_cast<float>(v)));
  if (dt == DType::f32) return static_cast<float>(v);
  return v;
}

// The trivial update the test stands in for an optimizer with: p -= lr · g over each group.
void sgd_step(const layers::FlatParameters& flat, double lr) {
  for (const layers::FlatGroup& g : flat.groups()) ops::axpy_(g.params, g.grads, -lr);
}

std::vector<std::vector<double>> param_values(const layers::FlatParameters& flat) {
  std::vector<std::vector<double>> out;
  for (const layers::FlatGroup& g : flat.groups()) out.push_back(test::values(g.params));
  return out;
}

// A linear layer, flattened, with gradients of S · mean(y²) from one backward.
struct Linear {
  std::shared_ptr<layers::Module> m = layers::build(YAML::Load("{type: linear, in: 8, out: 4, bias: true}"));
  layers::FlatParameters flat{*m};
  Tensor x = test::randn({6, 8}, DType::f32, 3);
  void backward(const LossScaler& scaler) {
    scaler.scale(gau::mean(gau::mul(m->forward(x), m->forward(x)))).backward();
  }
};

TEST(LossScaler, UnscalingEqualsDivision) {
  for (DType dt : test::kFloatTypes) {
    for (double scale : {65536.0, 0.25, 3.0}) {
      const Tensor g = test::randn({140001}, dt, 1);
      const std::vector<double> before = test::values(g);
      const Tensor found = ops::zeros({1}, DType::i32);
      unscale_and_check_(g, 1.0 / scale, found);
      EXPECT_EQ(found.item(), 0) << "all finite";
      const std::vector<double> after = test::values(g);
      const bool power_of_two = scale != 3.0;
      for (size_t i = 0; i < after.size(); ++i) {
        const double want = round_to(dt, before[i] / scale);
        if (power_of_two) {
          ASSERT_EQ(after[i], want) << dtype_name(dt) << " scale " << scale << " element " << i;
        } else {  // x · fl(1/3) may differ from x / 3 by the last place
          const double ulp = dt == DType::f64   ? 2.3e-16
                             : dt == DType::f32 ? 1.2e-7
                             : dt == DType::f16 ? 9.8e-4
                                                : 7.9e-3;
          ASSERT_NEAR(after[i], want, ulp * std::abs(want)) << dtype_name(dt) << " element " << i;
        }
      }
    }
  }
}

TEST(LossScaler, FlagsInfAndNanWhereverTheyAre) {
  for (double bad : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    for (int64_t at : {int64_t{0}, int64_t{77777}, int64_t{140000}}) {
      const Tensor g = test::randn({140001}, DType::f32, 2);
      ops::fill_(ops::narrow(g, 0, at, 1), bad);
      const Tensor found = ops::zeros({1}, DType::i32);
      unscale_and_check_(g, 0.5, found);
      EXPECT_EQ(found.item(), 1) << bad << " at " << at;
    }
  }
}

TEST(LossScaler, ScaleMultipliesTheLossAndItsGradients) {
  Linear plain, scaled;
  scaled.m->load_state_dict(plain.m->state_dict());
  ASSERT_TRUE(scaled.flat.bound());
  LossScaler one({.init = 1});
  LossScaler big({.init = 1024});
  plain.backward(one);
  scaled.backward(big);
  const std::vector<std::vector<double>> want = test::grad_values(plain.flat);
  const std::vector<std::vector<double>> got = test::grad_values(scaled.flat);
  for (size_t i = 0; i < want[0].size(); ++i) EXPECT_EQ(got[0][i], 1024 * want[0][i]) << i;
  EXPECT_TRUE(big.unscale_and_check(scaled.flat));
  EXPECT_EQ(test::grad_values(scaled.flat), want) << "unscaled, a power-of-two scale gives the same bits";
  const Tensor f16_loss = ops::full({}, 2.0, DType::f16);
  const Tensor s = LossScaler().scale(f16_loss);
  EXPECT_EQ(s.dtype(), DType::f32) << "65536 is past fp16's range";
  EXPECT_EQ(s.item(), 131072.0);
}

TEST(LossScaler, AnInjectedInfSkipsTheStepLeavesParametersBitwiseAndHalvesTheScale) {
  for (double bad : {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    Linear model;
    LossScaler scaler;
    model.backward(scaler);
    const layers::FlatEntry& weight = model.flat.groups()[0].entries[0];
    ops::fill_(ops::narrow(ops::view(weight.param.grad(), {32}), 0, 5, 1), bad);
    const std::vector<std::vector<double>> before = param_values(model.flat);
    const bool step = scaler.unscale_and_check(model.flat);
    EXPECT_FALSE(step);
    if (step) sgd_step(model.flat, 0.1);
    EXPECT_EQ(param_values(model.flat), before) << "bitwise unchanged";
    EXPECT_EQ(scaler.scale_value(), 32768.0);
    EXPECT_EQ(scaler.skipped_steps(), 1);
    EXPECT_EQ(scaler.good_steps(), 0);
    for (double v : test::values(model.flat.groups()[0].grads)) ASSERT_EQ(v, 0.0) << "the gradients are zeroed";
    // The next, finite step goes through and moves the parameters.
    model.backward(scaler);
    ASSERT_TRUE(scaler.unscale_and_check(model.flat));
    sgd_step(model.flat, 0.1);
    EXPECT_NE(param_values(model.flat), before);
    EXPECT_EQ(scaler.scale_value(), 32768.0);
    EXPECT_EQ(scaler.good_steps(), 1);
  }
}

TEST(LossScaler, GrowsAfterGrowthIntervalGoodStepsAndAnOverflowRestartsTheCount) {
  Linear model;
  LossScaler scaler({.init = 8, .growth = 2, .backoff = 0.5, .growth_interval = 3});
  auto good_step = [&] {
    model.flat.zero_grad();
    model.backward(scaler);
    return scaler.unscale_and_check(model.flat);
  };
  EXPECT_TRUE(good_step());
  EXPECT_TRUE(good_step());
  EXPECT_EQ(scaler.scale_value(), 8.0);
  EXPECT_TRUE(good_step());
  EXPECT_EQ(scaler.scale_value(), 16.0) << "grown after 3 good steps";
  EXPECT_EQ(scaler.good_steps(), 0);
  EXPECT_TRUE(good_step());
  EXPECT_TRUE(good_step());
  ops::fill_(model.flat.groups()[0].grads, std::numeric_limits<double>::infinity());
  EXPECT_FALSE(scaler.unscale_and_check(model.flat));
  EXPECT_EQ(scaler.scale_value(), 8.0);
  EXPECT_TRUE(good_step());
  EXPECT_TRUE(good_step());
  EXPECT_EQ(scaler.scale_value(), 8.0) << "the overflow restarted the count";
  EXPECT_TRUE(good_step());
  EXPECT_EQ(scaler.scale_value(), 16.0);
}

TEST(LossScaler, StateDictResumesExactly) {
  Linear model;
  LossScaler a({.init = 4, .growth_interval = 5});
  for (int i = 0; i < 7; ++i) {
    model.flat.zero_grad();
    model.backward(a);
    a.unscale_and_check(model.flat);
  }
  ops::fill_(model.flat.groups()[0].grads, std::numeric_limits<double>::quiet_NaN());
  a.unscale_and_check(model.flat);
  LossScaler b({.init = 4, .growth_interval = 5});
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(b.scale_value(), a.scale_value());
  EXPECT_EQ(b.good_steps(), a.good_steps());
  EXPECT_EQ(b.skipped_steps(), 1);
  EXPECT_EQ(b.scale_value(), 4.0);  // 4 -> 8 after 5 good steps, -> 4 on the nan

  layers::StateDict bad = a.state_dict();
  bad.erase("good_steps");
  EXPECT_THAT(error_of([&] { b.load_state_dict(bad); }), HasSubstr("missing key 'good_steps'"));
  bad = a.state_dict();
  bad["extra"] = ops::zeros({1});
  EXPECT_THAT(error_of([&] { b.load_state_dict(bad); }), HasSubstr("unexpected key 'extra'"));
  bad = a.state_dict();
  bad["scale"] = ops::zeros({1}, DType::f64);
  EXPECT_THAT(error_of([&] { b.load_state_dict(bad); }), HasSubstr("'scale' must be finite and > 0, got 0"));
  bad["scale"] = ops::zeros({2});
  EXPECT_THAT(error_of([&] { b.load_state_dict(bad); }), HasSubstr("'scale' must be f64[1], got f32[2]"));
  EXPECT_EQ(b.scale_value(), 4.0) << "nothing loaded by a failed load";
}

TEST(LossScaler, ConfigAndOptionErrors) {
  auto read = [](const std::string& yaml) {
    layers::ConfigReader r(YAML::Load(yaml), "optim.loss_scale");
    return LossScaler::from_config(r);
  };
  const LossScaler s = read("{init: 1024, growth: 4, backoff: 0.25, growth_interval: 100}");
  EXPECT_EQ(s.scale_value(), 1024.0);
  EXPECT_EQ(s.options().growth, 4.0);
  EXPECT_EQ(s.options().backoff, 0.25);
  EXPECT_EQ(s.options().growth_interval, 100);
  EXPECT_EQ(read("{}").scale_value(), 65536.0);
  EXPECT_THAT(error_of([&] { read("{init: 0}"); }), HasSubstr("optim.loss_scale.init ("));
  EXPECT_THAT(error_of([&] { read("{growth: 0.5}"); }), HasSubstr("optim.loss_scale.growth ("));
  EXPECT_THAT(error_of([&] { read("{backoff: 1.5}"); }),
              AllOf(HasSubstr("optim.loss_scale.backoff ("), HasSubstr("must be in (0, 1], got 1.5")));
  EXPECT_THAT(error_of([&] { read("{growth_interval: 0}"); }), HasSubstr("optim.loss_scale.growth_interval ("));
  EXPECT_THAT(error_of([&] { read("{intit: 2}"); }), HasSubstr("did you mean 'init'"));
  EXPECT_THAT(error_of([] { LossScaler({.backoff = 0}); }), HasSubstr("backoff must be in (0, 1], got 0"));
  EXPECT_THAT(error_of([] { LossScaler().scale(ops::zeros({2})); }), HasSubstr("one-element loss"));
}

}  // namespace
}  // namespace gau::optim
