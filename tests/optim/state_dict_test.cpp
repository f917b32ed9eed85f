// Optimizer state dicts: 10 steps, save, load into a fresh optimizer over a fresh model of the
// same layout, 10 more steps = 20 straight steps, bit for bit, for every optimizer (and for bf16
// parameters with f32 master weights and stochastic rounding); a state from another layout, dtype
// or optimizer type is an error naming what differs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "layers/flat_parameters.h"
#include "optim/adam.h"
#include "optim/factory.h"
#include "optim/sgd.h"
#include "tests/optim/problem.h"
#include "tests/support/checks.h"

namespace gau::optim {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Optimizer> build(const std::string& yaml, layers::FlatParameters& flat) {
  layers::ConfigReader r(YAML::Load(yaml), "optim");
  return make_optimizer(r, flat);
}

std::vector<std::vector<uint16_t>> bits(const layers::Module& m) {
  std::vector<std::vector<uint16_t>> out;
  for (const auto& [n, p] : m.named_parameters()) {
    Tensor c = ops::contiguous(p.detach());
    const auto* b = static_cast<const uint16_t*>(c.data_ptr());
    out.emplace_back(b, b + c.nbytes() / 2);
  }
  return out;
}

void steps(layers::Module& model, Optimizer& opt, int n) {
  for (int i = 0; i < n; ++i) {
    opt.zero_grad();
    test::set_gradients(model);
    opt.step();
  }
}

layers::StateDict copied(const layers::StateDict& d) {
  layers::StateDict out;
  for (const auto& [k, t] : d) out[k] = ops::clone(t);
  return out;
}

void expect_resume_is_bitwise(const std::string& yaml, DType dtype) {
  SCOPED_TRACE(yaml + " " + dtype_name(dtype));
  const layers::FlatOptions fo{.grad_dtype = DType::f32};
  const layers::FlatOptions& options = dtype == DType::bf16 ? fo : layers::FlatOptions{};
  test::Problem straight(dtype);
  layers::FlatParameters flat_a(straight, options);
  auto a = build(yaml, flat_a);
  steps(straight, *a, 20);

  test::Problem first(dtype);
  layers::FlatParameters flat_b(first, options);
  auto b = build(yaml, flat_b);
  steps(first, *b, 10);
  const OptimizerState saved = b->state_dict();
  const layers::StateDict weights = copied(first.state_dict());
  steps(first, *b, 3);  // the saved state is a copy: later steps do not change it

  test::Problem resumed(dtype);
  resumed.load_state_dict(weights);
  layers::FlatParameters flat_c(resumed, options);
  auto c = build(yaml, flat_c);
  c->load_state_dict(saved);
  EXPECT_EQ(c->step_count(), 10);
  steps(resumed, *c, 10);
  EXPECT_EQ(bits(resumed), bits(straight));
}

TEST(OptimizerStateDict, TenStepsSavedAndLoadedThenTenMoreEqualTwentyStraightBitwise) {
  for (const char* yaml :
       {"{type: sgd, lr: 0.05, momentum: 0.9, nesterov: true}", "{type: adamw, lr: 0.02, no_decay: ['*.bias']}",
        "{type: adam, lr: 0.02, amsgrad: true}", "{type: lamb, lr: 0.02}", "{type: adafactor, beta1: 0.9}",
        "{type: lion, lr: 0.01, weight_decay: 0.1}"}) {
    expect_resume_is_bitwise(yaml, DType::f32);
  }
  expect_resume_is_bitwise("{type: adamw, lr: 0.02, stochastic_rounding: true}", DType::bf16);
}

TEST(OptimizerStateDict, HoldsStepLrHyperparametersAndEveryBuffer) {
  test::Problem model(DType::bf16);
  layers::FlatParameters flat(model, {.grad_dtype = DType::f32});
  auto opt = build("{type: adam, lr: 0.02, amsgrad: true}", flat);
  steps(model, *opt, 2);
  const OptimizerState s = opt->state_dict();
  EXPECT_EQ(s.type, "adam");
  EXPECT_EQ(s.step, 2);
  EXPECT_EQ(s.lr, 0.02);
  EXPECT_TRUE(s.hyperparameters["amsgrad"].as<bool>());
  std::vector<std::string> keys;
  for (const auto& [k, t] : s.tensors) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"groups.0.exp_avg", "groups.0.exp_avg_sq", "groups.0.master",
                                            "groups.0.max_exp_avg_sq"}));
  const int64_t total = flat.groups()[0].params.numel();
  EXPECT_EQ(opt->state_bytes(), 4 * 4 * total);
}

TEST(OptimizerStateDict, AnotherLayoutDtypeOrTypeIsAnErrorNamingWhatDiffers) {
  test::Problem model;
  layers::FlatParameters flat(model);
  Adam adam(flat, {.lr = 0.01});
  const OptimizerState s = adam.state_dict();

  test::Params other({{"weight", ops::zeros({7, 5})}, {"bias", ops::zeros({5})}, {"extra", ops::zeros({3, 4})}});
  layers::FlatParameters flat_other(other);
  Adam adam_other(flat_other, {.lr = 0.01});
  EXPECT_THAT(gau::test::error_of([&] { adam_other.load_state_dict(s); }),
              HasSubstr("parameter 0 is 'lin.weight' in the state, 'weight' in this model"));

  test::Params resized({{"weight", ops::zeros({7, 4})}});
  layers::FlatParameters flat_resized(resized);
  Adam adam_resized(flat_resized, {.lr = 0.01});
  EXPECT_THAT(gau::test::error_of([&] { adam_resized.load_state_dict(adam_other.state_dict()); }),
              HasSubstr("the state has 3 parameters, this model 1"));

  test::Problem wide(DType::f64);
  layers::FlatParameters flat_wide(wide);
  Adam adam_wide(flat_wide, {.lr = 0.01});
  EXPECT_THAT(gau::test::error_of([&] { adam_wide.load_state_dict(s); }),
              HasSubstr("the state is for f32 parameters, this model's are f64"));

  Sgd sgd(flat, {.lr = 0.01, .momentum = 0.9});
  EXPECT_THAT(gau::test::error_of([&] { sgd.load_state_dict(s); }), HasSubstr("the state of a 'adam' optimizer"));

  OptimizerState missing = s;
  missing.tensors.erase("groups.0.exp_avg");
  EXPECT_THAT(gau::test::error_of([&] { adam.load_state_dict(missing); }), HasSubstr("has no 'groups.0.exp_avg'"));
}

}  // namespace
}  // namespace gau::optim
