// make_optimizer: every type builds from config with its defaults and reports them back; a bad
// config is an error naming the key's path and position (unknown type with the valid ones,
// negative lr, a beta outside [0, 1), eps <= 0, a pattern that matches nothing, a key the type
// does not read); read_optimizer_config checks all but the patterns without a model; the C++
// constructors check the same values.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "layers/flat_parameters.h"
#include "optim/adam.h"
#include "optim/factory.h"
#include "optim/lion.h"
#include "tests/optim/problem.h"
#include "tests/support/checks.h"

namespace gau::optim {
namespace {

using gau::test::error_of;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string build_error(const std::string& yaml) {
  test::Problem model;
  layers::FlatParameters flat(model);
  return error_of([&] {
    layers::ConfigReader r(YAML::Load(yaml), "optim", "run.yaml");
    make_optimizer(r, flat);
  });
}

TEST(OptimizerConfig, EveryTypeBuildsAndReportsItsSettings) {
  for (const std::string& type : optimizer_types()) {
    test::Problem model;
    layers::FlatParameters flat(model);
    layers::ConfigReader r(YAML::Load("{type: " + type + "}"), "optim");
    auto opt = make_optimizer(r, flat);
    EXPECT_EQ(opt->type(), type);
    EXPECT_EQ(opt->hyperparameters()["type"].as<std::string>(), type);
    EXPECT_EQ(opt->step_count(), 0);
  }
  test::Problem model;
  layers::FlatParameters flat(model);
  layers::ConfigReader r(YAML::Load("{type: adamw, lr: 3e-4, betas: [0.9, 0.95], weight_decay: 0.1}"), "optim");
  auto opt = make_optimizer(r, flat);
  EXPECT_EQ(opt->lr(), 3e-4);
  const YAML::Node h = opt->hyperparameters();
  EXPECT_EQ(h["betas"][1].as<double>(), 0.95);
  EXPECT_EQ(h["weight_decay"].as<double>(), 0.1);
  EXPECT_EQ(r.filled()["eps"].as<double>(), 1e-8);  // defaults filled in
  opt->set_lr(1e-4);
  EXPECT_EQ(opt->lr(), 1e-4);
  EXPECT_THAT(error_of([&] { opt->set_lr(-1); }), HasSubstr("lr must be >= 0, got -1"));
}

TEST(OptimizerConfig, HyperparametersRebuildTheSameOptimizer) {
  for (const char* yaml : {"{type: adamw, lr: 0.02, no_decay: ['*.bias'], lr_multipliers: {'proj.*': 0.5}}",
                           "{type: sgd, lr: 0.05, momentum: 0.9, nesterov: true}",
                           "{type: adafactor, beta1: 0.9, relative_step: false, lr: 0.01}",
                           "{type: lamb, stochastic_rounding: true, seed: 7}", "{type: lion, betas: [0.8, 0.9]}"}) {
    SCOPED_TRACE(yaml);
    test::Problem a, b;
    layers::FlatParameters flat_a(a), flat_b(b);
    layers::ConfigReader ra(YAML::Load(yaml), "optim");
    auto first = make_optimizer(ra, flat_a);
    const YAML::Node h = first->hyperparameters();
    layers::ConfigReader rb(YAML::Clone(h), "optim");
    auto second = make_optimizer(rb, flat_b);
    EXPECT_EQ(YAML::Dump(second->hyperparameters()), YAML::Dump(h));
    for (int t = 0; t < 3; ++t) {
      test::set_gradients(a);
      test::set_gradients(b);
      first->step();
      second->step();
    }
    EXPECT_EQ(gau::test::values(flat_a.groups()[0].params), gau::test::values(flat_b.groups()[0].params));
  }
}

TEST(OptimizerConfig, BadValuesNameTheirKey) {
  EXPECT_THAT(build_error("{type: adamx}"),
              AllOf(HasSubstr("optim.type (run.yaml:1:8)"), HasSubstr("'adamx' is not one of: sgd, adam, adamw, lamb"),
                    HasSubstr("did you mean 'adam"), HasSubstr("lion")));
  EXPECT_THAT(build_error("{type: adamw, lr: -0.1}"), AllOf(HasSubstr("optim.lr (run.yaml:1:19)"), HasSubstr(">= 0")));
  EXPECT_THAT(build_error("{type: adam, betas: [0.9, 1.0]}"),
              AllOf(HasSubstr("optim.betas"), HasSubstr("element 1 must be in [0, 1), got 1")));
  EXPECT_THAT(build_error("{type: lion, betas: [-0.1, 0.9]}"), HasSubstr("element 0 must be in [0, 1)"));
  EXPECT_THAT(build_error("{type: lamb, betas: [0.9]}"), HasSubstr("expected a list of 2 numbers"));
  EXPECT_THAT(build_error("{type: adam, eps: 0}"), AllOf(HasSubstr("optim.eps"), HasSubstr("> 0, got 0")));
  EXPECT_THAT(build_error("{type: adafactor, eps: [1e-30, 0]}"),
              AllOf(HasSubstr("optim.eps"), HasSubstr("element 1 must be > 0")));
  EXPECT_THAT(build_error("{type: sgd, momentum: 0.9, betas: [0.9, 0.99]}"),
              AllOf(HasSubstr("optim.betas"), HasSubstr("unknown key 'betas'"), HasSubstr("valid keys")));
  EXPECT_THAT(build_error("{type: sgd, nesterov: true}"), HasSubstr("nesterov needs momentum > 0"));
  EXPECT_THAT(build_error("{type: adafactor, beta1: 1.5}"), HasSubstr("optim.beta1"));
}

TEST(OptimizerConfig, AGroupPatternThatMatchesNothingIsAnError) {
  EXPECT_THAT(build_error("{type: adamw, no_decay: ['*.bias', '*.gamma']}"),
              AllOf(HasSubstr("optim.no_decay (run.yaml:1:25)"), HasSubstr("pattern '*.gamma' matches no parameter"),
                    HasSubstr("parameters are lin.weight, lin.bias, proj.weight")));
  EXPECT_THAT(build_error("{type: adamw, lr_multipliers: {'blocks.0.*': 0.5}}"),
              AllOf(HasSubstr("optim.lr_multipliers"), HasSubstr("pattern 'blocks.0.*' matches no parameter")));
  EXPECT_THAT(build_error("{type: adamw, lr_multipliers: {'lin.*': -1}}"), HasSubstr("'lin.*' must be >= 0"));
  EXPECT_THAT(build_error("{type: adamw, no_decay: '*.bias'}"), HasSubstr("expected a list of name patterns"));
  // The same check over names alone, as gau config makes it without a flat buffer.
  const auto check = [](const std::string& yaml) {
    return error_of([&] {
      layers::ConfigReader r(YAML::Load(yaml), "optim", "run.yaml");
      check_group_patterns(r, {"lin.weight", "lin.bias"});
    });
  };
  EXPECT_THAT(check("{type: adamw, no_decay: ['*.bias', '*.gamma']}"),
              AllOf(HasSubstr("optim.no_decay (run.yaml:1:25)"), HasSubstr("pattern '*.gamma' matches no parameter"),
                    HasSubstr("parameters are lin.weight, lin.bias")));
  EXPECT_EQ(check("{type: adamw, no_decay: ['*.bias'], lr_multipliers: {'lin.*': 2}}"), "");
}

TEST(OptimizerConfig, ReadingChecksEverythingButThePatternsWithoutAModel) {
  layers::ConfigReader r(YAML::Load("{type: sgd, momentum: 0.9, no_decay: ['*.nothing']}"), "optim");
  const OptimizerConfig c = read_optimizer_config(r);
  EXPECT_EQ(c.type, "sgd");
  EXPECT_EQ(std::get<SgdOptions>(c.options).momentum, 0.9);
  EXPECT_EQ(c.common.groups.no_decay, std::vector<std::string>{"*.nothing"});
  EXPECT_EQ(r.filled()["dampening"].as<double>(), 0);  // defaults filled in
  EXPECT_THAT(error_of([] {
                layers::ConfigReader bad(YAML::Load("{type: adamw, momentum: 0.9}"), "optim", "run.yaml");
                read_optimizer_config(bad);
              }),
              AllOf(HasSubstr("optim.momentum (run.yaml:1:15): unknown key 'momentum'"), HasSubstr("valid keys")));
}

TEST(OptimizerConfig, TheConstructorsCheckTheSameValues) {
  test::Problem model;
  layers::FlatParameters flat(model);
  EXPECT_THAT(error_of([&] { Adam(flat, {.beta1 = 1.0}); }),
              HasSubstr("adam: betas must be in [0, 1), got (1, 0.999)"));
  EXPECT_THAT(error_of([&] { Adam(flat, {.eps = 0}); }), HasSubstr("eps must be > 0"));
  EXPECT_THAT(error_of([&] { Adam(flat, {.lr = -1, .decoupled = true}); }), HasSubstr("adamw: lr must be >= 0"));
  EXPECT_THAT(error_of([&] { Lion(flat, {}, {.groups = {.no_decay = {"*norm*"}}}); }),
              HasSubstr("lion: group pattern '*norm*' matches no parameter; parameters are lin.weight"));
}

// The lr that metrics log: Adafactor's relative step scales its lr multiplier (optim/adafactor.h).
TEST(OptimizerConfig, StepSizeIsTheLearningRateTheLastStepApplied) {
  const auto step_sizes = [](const std::string& yaml) {
    test::Problem model;
    layers::FlatParameters flat(model);
    layers::ConfigReader r(YAML::Load(yaml), "optim");
    std::unique_ptr<Optimizer> opt = make_optimizer(r, flat);
    std::vector<double> sizes;
    for (int t = 1; t <= 3; ++t) {
      test::set_gradients(model);
      opt->step();
      sizes.push_back(opt->step_size());
    }
    return sizes;
  };
  EXPECT_EQ(step_sizes("{type: adamw, lr: 0.003}"), (std::vector<double>{0.003, 0.003, 0.003}));
  EXPECT_EQ(step_sizes("{type: adafactor, lr: 0.5, relative_step: false}"), (std::vector<double>{0.5, 0.5, 0.5}));
  // ρ_t = min(1e-2, 1/√t): 1e-2 until t = 10^4.
  EXPECT_EQ(step_sizes("{type: adafactor, lr: 2}"), (std::vector<double>{0.02, 0.02, 0.02}));
  // warmup_init: ρ_t = min(1e-6 t, 1/√t).
  const std::vector<double> warm = step_sizes("{type: adafactor, lr: 2, warmup_init: true}");
  for (int t = 1; t <= 3; ++t) EXPECT_DOUBLE_EQ(warm[t - 1], 2e-6 * t);
}

}  // namespace
}  // namespace gau::optim
