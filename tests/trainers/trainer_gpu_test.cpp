// The training loop on CUDA against the CPU: the same config, seed and data give the same loss
// curve. A tiny GAU LM on associative recall, 20 steps in f32. The two backends sum in other
// orders (GEMM tiles, reductions), so the curves part by rounding that training then amplifies a
// little; 2e-3 relative over 20 steps of AdamW at lr 1e-2 leaves room for that and none for a
// wrong gradient, which moves the loss by more than 1e-2 within a few steps.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/cuda_fixture.h"
#include "tests/support/files.h"
#include "trainers/trainer.h"

namespace gau::trainers {
namespace {

constexpr const char* kConfig = R"(model:
  type: language_model
  vocab: 32
  dim: 32
  max_length: 16
  blocks: {type: gau, e: 64, s: 16}
  layers: 2
data:
  source: synthetic
  task: {type: associative_recall, vocab_size: 32, pairs: 4, queries: 1, train_examples: 2000, val_examples: 100}
  seq_len: 11
  batch_size: 32
optim: {type: adamw, lr: 0.01, weight_decay: 0.0}
train: {steps: 20, seed: 3, eval_every: 0, eval_steps: 2, checkpoint_every: 0, sample_tokens: 0}
logging: {progress: lines, tensorboard: false}
)";

class TrainerGpuTest : public test::CudaTest {};

TEST_F(TrainerGpuTest, CudaLossCurveMatchesCpu) {
  test::TempDir dir;
  test::write_bytes(dir.path() / "c.yaml", kConfig);
  std::FILE* log = std::tmpfile();
  auto run = [&](const std::string& device) {
    TrainRequest r{.config_file = (dir.path() / "c.yaml").string(),
                   .overrides = {"train.device=" + device},
                   .run_dir = (dir.path() / device).string(),
                   .log = log};
    Trainer t(r);
    return t.run();
  };
  const TrainSummary cpu = run("cpu");
  const TrainSummary cuda = run("cuda:0");
  std::fclose(log);
  ASSERT_EQ(cpu.losses.size(), 20u);
  ASSERT_EQ(cuda.losses.size(), 20u);
  for (size_t i = 0; i < cpu.losses.size(); ++i)
    EXPECT_NEAR(cuda.losses[i], cpu.losses[i], 2e-3 * std::abs(cpu.losses[i])) << "step " << i + 1;
  ASSERT_TRUE(cpu.final_eval && cuda.final_eval);
  EXPECT_NEAR(cuda.final_eval->loss, cpu.final_eval->loss, 2e-3 * cpu.final_eval->loss);
}

}  // namespace
}  // namespace gau::trainers
