// The mixed-precision path on CPU: the policy table and its config key, and a small GAU language
// model that trains in bf16 (f32 gradients and master weights) and in fp16 with the dynamic loss
// scaler, through the whole optim stack: apply_precision, make_optimizer (the fused AdamW with its
// f32 master weights), the loss scaler and norm clipping.
#include "optim/precision.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "layers/models/language_model.h"
#include "layers/registry.h"
#include "optim/clip.h"
#include "optim/factory.h"
#include "optim/loss_scaler.h"
#include "tests/support/checks.h"

namespace gau::optim {
namespace {

using test::error_of;
using ::testing::HasSubstr;

TEST(Precision, PolicyTable) {
  const PrecisionPolicy fp32 = precision_policy(Precision::fp32);
  EXPECT_EQ(fp32.param_dtype, DType::f32);
  EXPECT_EQ(fp32.grad_dtype, DType::f32);
  EXPECT_FALSE(fp32.master_weights);
  EXPECT_FALSE(fp32.loss_scaling);
  const PrecisionPolicy bf16 = precision_policy(Precision::bf16);
  EXPECT_EQ(bf16.param_dtype, DType::bf16);
  EXPECT_EQ(bf16.grad_dtype, DType::f32);
  EXPECT_TRUE(bf16.master_weights);
  EXPECT_FALSE(bf16.loss_scaling);
  const PrecisionPolicy fp16 = precision_policy(Precision::fp16);
  EXPECT_EQ(fp16.param_dtype, DType::f16);
  EXPECT_EQ(fp16.grad_dtype, DType::f32);
  EXPECT_TRUE(fp16.master_weights);
  EXPECT_TRUE(fp16.loss_scaling);
  EXPECT_EQ(fp16.flat_options().grad_dtype, DType::f32);
}

TEST(Precision, FromConfig) {
  auto read = [](const std::string& yaml) {
    layers::ConfigReader r(YAML::Load(yaml), "train");
    return read_precision(r);
  };
  EXPECT_EQ(read("{precision: bf16}").precision, Precision::bf16);
  EXPECT_EQ(read("{precision: fp16}").precision, Precision::fp16);
  EXPECT_EQ(read("{}").precision, Precision::fp32);
  EXPECT_THAT(error_of([&] { read("{precision: fp8}"); }), HasSubstr("'fp8' is not one of: fp32, bf16, fp16"));
  EXPECT_THAT(error_of([&] { read("{precision: bf61}"); }), HasSubstr("did you mean 'bf16'"));
}

struct Trajectory {
  std::vector<double> losses;
  int64_t skipped = 0;
};

// 30 steps of next-token prediction where the next token is (id + 1) mod 32, on one batch.
Trajectory train(Precision precision, const LossScalerOptions& scaling = {}) {
  auto lm = std::dynamic_pointer_cast<layers::LanguageModel>(layers::build(
      YAML::Load("{type: language_model, vocab: 32, dim: 16, blocks: {type: gau, s: 8}, layers: 2, max_length: 16}")));
  const PrecisionPolicy policy = precision_policy(precision);
  layers::FlatParameters flat = apply_precision(*lm, policy, Device::cpu());
  EXPECT_EQ(flat.groups().size(), 1u);
  EXPECT_EQ(flat.groups()[0].params.dtype(), policy.param_dtype);
  EXPECT_EQ(flat.groups()[0].grads.dtype(), DType::f32);
  // The fused AdamW keeps the f32 master weights of a bf16/f16 model (optim/optimizer.h).
  layers::ConfigReader optim_config(YAML::Load("{type: adamw, lr: 0.01, weight_decay: 0}"), "optim");
  std::unique_ptr<Optimizer> adamw = make_optimizer(optim_config, flat);
  LossScaler scaler(scaling);
  const Tensor ids = layers::example_token_ids(4, 12, 32, Device::cpu(), 5);  // [4, 12]
  std::vector<int64_t> next;
  for (double v : test::values(ids)) next.push_back((static_cast<int64_t>(v) + 1) % 32);
  const Tensor targets = ops::from_vector<int64_t>(next, ids.shape());
  Trajectory run;
  for (int step = 0; step < 30; ++step) {
    const Tensor loss = lm->loss(ids, targets);
    EXPECT_EQ(loss.dtype(), DType::f32);
    run.losses.push_back(loss.item());
    if (policy.loss_scaling) {
      scaler.scale(loss).backward();
      if (!scaler.unscale_and_check(flat)) continue;  // skipped: the gradients are already zero
    } else {
      loss.backward();
    }
    clip_grad_norm(flat, 1.0);
    adamw->step();
    adamw->zero_grad();
  }
  run.skipped = scaler.skipped_steps();
  return run;
}

void expect_learns(const Trajectory& run, const char* what) {
  ASSERT_EQ(run.losses.size(), 30u);
  for (double l : run.losses) ASSERT_TRUE(std::isfinite(l)) << what;
  EXPECT_LT(run.losses.back(), 0.6 * run.losses.front())
      << what << ": " << run.losses.front() << " -> " << run.losses.back();
}

TEST(MixedPrecisionCpu, Fp32Bf16AndFp16WithLossScalingAllTrain) {
  const Trajectory fp32 = train(Precision::fp32);
  const Trajectory bf16 = train(Precision::bf16);
  const Trajectory fp16 = train(Precision::fp16);
  expect_learns(fp32, "fp32");
  expect_learns(bf16, "bf16");
  expect_learns(fp16, "fp16");
  EXPECT_LE(fp16.skipped, 2) << "the default scale is about right for this model";
  std::printf("loss after 30 steps: fp32 %.4f, bf16 %.4f, fp16 %.4f (%lld skipped), from %.4f\n", fp32.losses.back(),
              bf16.losses.back(), fp16.losses.back(), static_cast<long long>(fp16.skipped), fp32.losses.front());
  // Low precision follows the fp32 run: the same start, within the rounding of the weights.
  EXPECT_NEAR(bf16.losses.back(), fp32.losses.back(), 0.1 * fp32.losses.back());
  EXPECT_NEAR(fp16.losses.back(), fp32.losses.back(), 0.1 * fp32.losses.back());
}

TEST(MixedPrecisionCpu, Fp16RecoversFromAnOverflowingScale) {
  // 2^24 overflows fp16 in backward: the first steps are skipped and the scale backs off.
  const Trajectory fp16 = train(Precision::fp16, {.init = 16777216, .growth_interval = 1000});
  EXPECT_GE(fp16.skipped, 1);
  EXPECT_LT(fp16.skipped, 10);
  EXPECT_LT(fp16.losses.back(), 0.6 * fp16.losses.front()) << fp16.losses.front() << " -> " << fp16.losses.back();
}

}  // namespace
}  // namespace gau::optim
