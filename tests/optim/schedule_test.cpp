// Schedules against their closed forms at many steps and at the boundaries (step 0, the end of
// warmup, total_steps, past the end), and bad config naming the key.
#include "optim/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "tests/support/checks.h"

namespace gau::optim {
namespace {

using test::error_of;
using ::testing::AllOf;
using ::testing::HasSubstr;

Schedule from_yaml(const std::string& yaml, double base_lr) {
  layers::ConfigReader r(YAML::Load(yaml), "schedule");
  return make_schedule(r, base_lr);
}

std::string config_error(const std::string& yaml, double base_lr = 1.0) {
  return error_of([&] { from_yaml(yaml, base_lr); });
}

// Every step in [0, last] and a few far past it: lr_at against `want` to 1e-12 relative.
template <typename F>
void expect_closed_form(const Schedule& s, int64_t last, F want) {
  for (int64_t step = 0; step <= last; ++step) {
    ASSERT_NEAR(s.lr_at(step), want(step), 1e-12 * std::abs(want(step)) + 1e-300) << "step " << step;
  }
  for (int64_t step : {last * 2, last * 10, int64_t{1} << 40}) {
    ASSERT_NEAR(s.lr_at(step), want(step), 1e-12 * std::abs(want(step)) + 1e-300) << "step " << step;
  }
}

TEST(Schedule, Constant) {
  Schedule s = from_yaml("{type: constant}", 3e-4);
  expect_closed_form(s, 100, [](int64_t) { return 3e-4; });
  EXPECT_EQ(s.lr_at(0), 3e-4);
}

TEST(Schedule, LinearWarmupAloneIsConstantWithWarmup) {
  Schedule s = from_yaml("{warmup_steps: 10}", 2.0);
  expect_closed_form(s, 50, [](int64_t t) { return t < 10 ? 2.0 * (t + 1) / 10 : 2.0; });
  EXPECT_EQ(s.lr_at(0), 0.2) << "the first step already moves";
  EXPECT_EQ(s.lr_at(9), 2.0) << "warmup ends at the base lr";
  EXPECT_EQ(s.lr_at(10), 2.0);
}

TEST(Schedule, CosineWithMinRatioAndWarmup) {
  const double eta = 1e-3, floor = 1e-4;
  Schedule s = from_yaml("{type: cosine, warmup_steps: 20, total_steps: 220, min_ratio: 0.1}", eta);
  expect_closed_form(s, 300, [&](int64_t t) {
    if (t < 20) return eta * (t + 1) / 20.0;
    if (t >= 220) return floor;
    return floor + (eta - floor) * 0.5 * (1 + std::cos(std::numbers::pi * (t - 20) / 200.0));
  });
  EXPECT_NEAR(s.lr_at(20), eta, 1e-18) << "the decay starts at the base lr";
  EXPECT_NEAR(s.lr_at(120), (eta + floor) / 2, 1e-18) << "half way";
  EXPECT_NEAR(s.lr_at(220), floor, 1e-18) << "total_steps reaches the floor";
  EXPECT_NEAR(s.lr_at(10000), floor, 1e-18) << "and stays there";
}

TEST(Schedule, CosineWithMinLrAndNoWarmup) {
  Schedule s = from_yaml("{type: cosine, total_steps: 100, min_lr: 0.25}", 1.0);
  expect_closed_form(s, 150, [](int64_t t) {
    return t >= 100 ? 0.25 : 0.25 + 0.75 * 0.5 * (1 + std::cos(std::numbers::pi * t / 100.0));
  });
  EXPECT_EQ(s.lr_at(0), 1.0);
}

TEST(Schedule, CosineToZeroByDefault) {
  Schedule s = from_yaml("{type: cosine, total_steps: 10}", 1.0);
  EXPECT_NEAR(s.lr_at(10), 0.0, 1e-16);
  EXPECT_EQ(s.lr_at(11), s.lr_at(10));
}

TEST(Schedule, LinearDecayToAFloor) {
  Schedule s = from_yaml("{type: linear, warmup_steps: 5, total_steps: 45, min_lr: 0.5}", 4.0);
  expect_closed_form(s, 80, [](int64_t t) {
    if (t < 5) return 4.0 * (t + 1) / 5;
    if (t >= 45) return 0.5;
    return 4.0 - 3.5 * (t - 5) / 40.0;
  });
  EXPECT_EQ(s.lr_at(4), 4.0);
  EXPECT_EQ(s.lr_at(5), 4.0);
  EXPECT_EQ(s.lr_at(45), 0.5);
  EXPECT_EQ(s.lr_at(46), 0.5);
}

TEST(Schedule, InverseSqrtAfterWarmupIsTheTransformerRule) {
  Schedule s = from_yaml("{type: inverse_sqrt, warmup_steps: 16}", 1.0);
  expect_closed_form(s, 200, [](int64_t t) { return t < 16 ? (t + 1) / 16.0 : std::sqrt(16.0 / t); });
  EXPECT_EQ(s.lr_at(16), 1.0);
  EXPECT_EQ(s.lr_at(64), 0.5);
}

TEST(Schedule, InverseSqrtWithATimescaleAndNoWarmup) {
  Schedule a = from_yaml("{type: inverse_sqrt}", 2.0);
  expect_closed_form(a, 100, [](int64_t t) { return 2.0 / std::sqrt(1.0 + t); });
  Schedule b = from_yaml("{type: inverse_sqrt, timescale: 100}", 2.0);
  expect_closed_form(b, 100, [](int64_t t) { return 2.0 * std::sqrt(100.0 / (100.0 + t)); });
}

TEST(Schedule, IsAPureFunctionOfTheStepAndItsConfigRebuildsIt) {
  Schedule s = from_yaml("{type: cosine, warmup_steps: 3, total_steps: 30, min_ratio: 0.2}", 0.5);
  layers::ConfigReader r(s.config(), "schedule");
  Schedule again = make_schedule(r, 0.5);
  for (int64_t t : {29, 0, 7, 3, 30, 2, 31}) EXPECT_EQ(s.lr_at(t), again.lr_at(t)) << t;
  EXPECT_EQ(s.lr_at(7), s.lr_at(7));
}

TEST(Schedule, BadConfigNamesTheKey) {
  EXPECT_THAT(config_error("{type: cosine, warmup_steps: -5, total_steps: 10}"),
              AllOf(HasSubstr("schedule.warmup_steps ("), HasSubstr("): must be >= 0, got -5")));
  EXPECT_THAT(config_error("{type: cosine, warmup_steps: 2000, total_steps: 1000}"),
              AllOf(HasSubstr("schedule.total_steps ("), HasSubstr("): must be > warmup_steps (2000), got 1000")));
  EXPECT_THAT(config_error("{type: linear, warmup_steps: 10, total_steps: 10}"),
              AllOf(HasSubstr("schedule.total_steps ("), HasSubstr("): must be > warmup_steps (10), got 10")));
  EXPECT_THAT(config_error("{type: cosine}"),
              AllOf(HasSubstr("schedule.total_steps ("), HasSubstr("): missing required key")));
  EXPECT_THAT(config_error("{type: cosine, total_steps: 10, min_ratio: 1.5}"),
              AllOf(HasSubstr("schedule.min_ratio ("), HasSubstr("): must be a finite number in [0, 1], got 1.5")));
  EXPECT_THAT(config_error("{type: cosine, total_steps: 10, min_ratio: -0.1}"), HasSubstr("schedule.min_ratio"));
  EXPECT_THAT(config_error("{type: cosine, total_steps: 10, min_lr: 2}", 1.0),
              AllOf(HasSubstr("schedule.min_lr ("), HasSubstr("): must be <= the base lr (1), got 2")));
  EXPECT_THAT(config_error("{type: cosine, total_steps: 10, min_lr: -1}", 1.0),
              AllOf(HasSubstr("schedule.min_lr ("), HasSubstr("): must be a finite number >= 0, got -1")));
  EXPECT_THAT(config_error("{type: cosine, total_steps: 10, min_lr: 0.1, min_ratio: 0.1}"),
              AllOf(HasSubstr("schedule.min_ratio ("), HasSubstr("): give min_lr or min_ratio, not both")));
  const std::string unknown = config_error("{type: cosin}");
  EXPECT_THAT(unknown, AllOf(HasSubstr("schedule.type ("),
                             HasSubstr("): 'cosin' is not one of: constant, cosine, linear, inverse_sqrt")));
  EXPECT_THAT(unknown, HasSubstr("did you mean 'cosine'"));
  EXPECT_THAT(config_error("{type: constant, total_steps: 10}"), HasSubstr("total_steps"))
      << "a key the type does not use";
  EXPECT_THAT(config_error("{type: inverse_sqrt, timescale: 0}"), HasSubstr("schedule.timescale"));
}

TEST(Schedule, BadOptionsInCodeAndBadStepsAreErrors) {
  EXPECT_THAT(error_of([] { Schedule({.type = ScheduleType::linear, .warmup_steps = 5, .total_steps = 3}); }),
              HasSubstr("total_steps must be > warmup_steps (5), got 3"));
  EXPECT_THAT(error_of([] { Schedule({.base_lr = -1}); }), HasSubstr("base_lr must be finite and >= 0, got -1"));
  EXPECT_THAT(error_of([] { Schedule({}).lr_at(-1); }), HasSubstr("step must be >= 0, got -1"));
}

}  // namespace
}  // namespace gau::optim
