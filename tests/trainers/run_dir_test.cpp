// The run directory: creation, refusal to reuse a run, naming, and resolving what
// `gau eval|generate RUN_DIR|CHECKPOINT` loads.
#include "trainers/run_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/ops/factory.h"
#include "tests/support/checks.h"
#include "tests/support/files.h"
#include "trainers/checkpoint.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class Tiny : public layers::Module {
 public:
  Tiny() : Module("Tiny") { register_parameter("w", ops::ones({4})); }
};

TEST(RunDir, CreateWritesTheConfigAndRefusesAnExistingRun) {
  test::TempDir tmp;
  const fs::path p = tmp.path() / "runs" / "gau-tiny";
  RunDir run = RunDir::create(p, "model:\n  dim: 8\n");
  EXPECT_EQ(test::read_bytes(p / "config.yaml"), "model:\n  dim: 8\n");
  EXPECT_TRUE(fs::is_directory(p / "checkpoints"));
  EXPECT_EQ(run.metrics_path(), p / "metrics.jsonl");
  EXPECT_EQ(RunDir::open(p).config_yaml(), "model:\n  dim: 8\n");
  EXPECT_THAT(test::error_of([&] { RunDir::create(p, "x"); }), HasSubstr("already holds a run"));
  EXPECT_THAT(test::error_of([&] { RunDir::open(tmp.path()); }),
              HasSubstr("is not a run directory: it has no config.yaml"));
  EXPECT_THAT(test::error_of([&] { RunDir::open(tmp.path() / "nope"); }), HasSubstr("does not exist"));
}

TEST(RunDir, NewRunPathNeverReusesADirectory) {
  test::TempDir tmp;
  EXPECT_EQ(new_run_path(tmp.path(), "a"), tmp.path() / "a");
  fs::create_directory(tmp.path() / "a");
  EXPECT_EQ(new_run_path(tmp.path(), "a"), tmp.path() / "a-2");
  fs::create_directory(tmp.path() / "a-2");
  EXPECT_EQ(new_run_path(tmp.path(), "a"), tmp.path() / "a-3");
  EXPECT_THAT(test::error_of([&] { new_run_path(tmp.path(), "x/y"); }), HasSubstr("no '/'"));
}

TEST(RunDir, CheckpointNames) {
  EXPECT_EQ(checkpoint_dir_name(0), "step_000000");
  EXPECT_EQ(checkpoint_dir_name(123), "step_000123");
  EXPECT_EQ(checkpoint_dir_name(12345678), "step_12345678");
  EXPECT_THAT(test::error_of([] { checkpoint_dir_name(-1); }), HasSubstr("non-negative"));
}

TEST(RunDir, ResolveAcceptsARunOrACheckpoint) {
  test::TempDir tmp;
  const fs::path run = tmp.path() / "run";
  RunDir::create(run, "x: 1\n");
  EXPECT_THAT(test::error_of([&] { resolve_checkpoint(run); }),
              HasSubstr("is neither a checkpoint (it has no state.json) nor a run directory with a checkpoint"));
  EXPECT_THAT(test::error_of([&] { resolve_checkpoint(tmp.path() / "gone"); }), HasSubstr("does not exist"));
  Tiny m;
  const fs::path c3 = save_checkpoint(run, {.step = 3}, m);
  const fs::path c9 = save_checkpoint(run, {.step = 9}, m);
  EXPECT_EQ(resolve_checkpoint(run), c9);
  EXPECT_EQ(resolve_checkpoint(c3), c3);
  set_latest(run, c3);
  EXPECT_EQ(resolve_checkpoint(run), c3);
  EXPECT_EQ(latest_checkpoint(run), c3);
  // No `latest` (a crash before the first pointer was written): the newest complete checkpoint.
  fs::remove(run / "latest");
  EXPECT_EQ(latest_checkpoint(run), std::nullopt);
  EXPECT_EQ(resolve_checkpoint(run), c9);
  test::write_bytes(run / "latest", "checkpoints/step_000777\n");
  EXPECT_THAT(test::error_of([&] { resolve_checkpoint(run); }),
              HasSubstr("step_000777, which is not a complete checkpoint (no state.json)"));
  EXPECT_THAT(test::error_of([&] { resolve_checkpoint(run); }),
              HasSubstr("the newest complete checkpoint is checkpoints/step_000009"));
  // A NUL would end the path at the run directory itself, which is a directory: still refused.
  test::write_bytes(run / "latest", std::string("\0\xff", 2));
  EXPECT_THAT(test::error_of([&] { resolve_checkpoint(run); }),
              HasSubstr("does not hold a checkpoint path (it has control or NUL bytes)"));
  test::write_bytes(run / "latest", "\n");
  EXPECT_THAT(test::error_of([&] { resolve_checkpoint(run); }), HasSubstr("is empty"));
  EXPECT_THAT(test::error_of([&] { set_latest(run, tmp.path() / "elsewhere"); }), HasSubstr("is not under"));
  // Staging directories and stray files are not checkpoints.
  fs::create_directory(run / "checkpoints" / ".step_000010.partial-1");
  fs::create_directory(run / "checkpoints" / "step_00x");
  EXPECT_EQ(list_checkpoints(run).size(), 2u);
}

}  // namespace
}  // namespace gau::trainers
