// The faults of a data-parallel `gau train`, end to end under `mpirun -np 2`: a rank that raises
// in a step aborts the run at once with its rank and error; a rank that stops responding makes
// the other abort at distributed.timeout_s; neither leaves a checkpoint of the failed step. The
// faults come from the trainer's GAU_TEST_FAULT hook (trainers/trainer.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/files.h"

namespace gau {
namespace {

// A tiny recall model, 50 steps, a checkpoint every step: a step that fails has none.
constexpr const char* kConfig = R"(model: {type: language_model, vocab: 16, dim: 16, max_length: 8, layers: 1,
        blocks: {type: gau, e: 32, s: 8}}
data: {source: synthetic, task: {type: associative_recall, vocab_size: 16, pairs: 2, train_examples: 500,
       val_examples: 32}, seq_len: 7, batch_size: 4}
train: {steps: 50, threads: 1, eval_every: 0, eval_steps: 1, checkpoint_every: 1, log_every: 1, sample_tokens: 0}
distributed: {timeout_s: 3}
logging: {progress: lines, tensorboard: false}
)";

test::TimedCommand train_with_fault(const test::TempDir& dir, const std::string& fault, const std::string& more = "") {
  test::write_bytes(dir.path() / "c.yaml", kConfig);
  const std::string command = "timeout -s KILL 60 " GAU_MPIEXEC " -np 2 " GAU_MPIEXEC_FLAGS " -x GAU_TEST_FAULT=" +
                              fault + " " GAU_CLI " train " + (dir.path() / "c.yaml").string() + " --run-dir " +
                              (dir.path() / "run").string() + more;
  return test::run_command_timed(command);
}

constexpr double kLauncherSlack_s = 8;  // starting 2 ranks, building the model and the data

TEST(TrainerFaults, ARankThatRaisesAbortsTheRunAtOnce) {
  test::TempDir dir;
  const test::TimedCommand r = train_with_fault(dir, "raise@1:4");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_LT(r.seconds, 3 + kLauncherSlack_s) << r.output;
  EXPECT_NE(r.output.find("rank 1 of 2 aborts the run: GAU_TEST_FAULT: the injected error of rank 1 at step 4"),
            std::string::npos)
      << r.output;
  // Steps 1-3 were checkpointed; step 4 never completed.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "run" / "checkpoints" / "step_000003")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run" / "checkpoints" / "step_000004")) << r.output;
}

// Rank 0 alone failing before the first step (its data, its run directory) aborts the run at once
// too, not when the other rank's barrier times out; the new run's directory is removed.
TEST(TrainerFaults, AnErrorOnRankZeroInSetupAbortsTheRunAtOnce) {
  test::TempDir dir;
  // A timeout far beyond the slack: waiting for it would fail the test.
  const test::TimedCommand r = train_with_fault(dir, "raise@0:0", " --set distributed.timeout_s=40");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_LT(r.seconds, 3 + kLauncherSlack_s) << r.output;
  EXPECT_NE(r.output.find("rank 0 of 2 aborts the run: GAU_TEST_FAULT: the injected error of rank 0 at step 0"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run")) << r.output;
}

TEST(TrainerFaults, ARankThatHangsMakesTheOtherAbortAtTheTimeout) {
  test::TempDir dir;
  const test::TimedCommand r = train_with_fault(dir, "hang@1:4");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_GE(r.seconds, 3) << r.output;
  EXPECT_LT(r.seconds, 3 + kLauncherSlack_s) << r.output;
  EXPECT_NE(r.output.find("rank 0 of 2 aborts the run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("timeout of 3 s"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run" / "checkpoints" / "step_000004")) << r.output;
}

}  // namespace
}  // namespace gau
