// Checkpoints: bitwise round trips, a crash (SIGKILL) or an exception mid-write leaving the
// previous checkpoint and `latest` intact, clear errors for damaged checkpoints and for a model
// of another config, keep-last-k, and the generator state.
#include "trainers/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <stdexcept>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/version.h"
#include "tests/support/checks.h"
#include "tests/support/files.h"
#include "trainers/atomic_file.h"
#include "trainers/run_dir.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// f32 and bf16 parameters and an i64 buffer; `n` sets the size of the big one.
class Toy : public layers::Module {
 public:
  Toy(int64_t n, uint64_t seed, int64_t extra = 0) : Module("Toy") {
    Generator g(seed);
    register_parameter("w", ops::randn({n}, DType::f32, Device::cpu(), 0, 1, &g));
    register_parameter("h", ops::randn({3, 5}, DType::bf16, Device::cpu(), 0, 1, &g));
    register_buffer("count", ops::full({2}, static_cast<double>(seed) + 1e12, DType::i64));
    if (extra > 0) register_parameter("extra", ops::zeros({extra}));
  }
};

std::string bytes_of(const Tensor& t) {
  Tensor c = ops::contiguous(t);
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

void expect_same(const layers::StateDict& got, const layers::StateDict& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    ASSERT_TRUE(got.count(name)) << name;
    EXPECT_EQ(got.at(name).dtype(), w.dtype()) << name;
    EXPECT_EQ(got.at(name).shape(), w.shape()) << name;
    EXPECT_EQ(bytes_of(got.at(name)), bytes_of(w)) << name << ": bits differ";
  }
}

layers::StateDict optimizer_state(uint64_t seed) {
  Generator g(seed);
  return {{"exp_avg", ops::randn({64}, DType::f32, Device::cpu(), 0, 1, &g)},
          {"exp_avg_sq", ops::rand({64}, DType::f32, Device::cpu(), 0, 1, &g)},
          {"step", ops::full({1}, 12345678901.0, DType::i64)}};
}

CheckpointState state_at(int64_t step) {
  return {step,
          "model:\n  dim: 8\n",
          {{"schedule", {{"step", step}}}, {"loader", {{"epoch", 1}, {"index", 42}}}, {"loss_scale", 65536.0}}};
}

std::string latest_text(const fs::path& run) { return test::read_bytes(run / "latest"); }

class CheckpointTest : public ::testing::Test {
 protected:
  void TearDown() override { set_write_hook(nullptr); }
  test::TempDir tmp_;
  fs::path run_ = tmp_.path() / "run";
};

TEST_F(CheckpointTest, RoundTripIsBitwise) {
  Toy model(1000, 1);
  const fs::path dir = save_checkpoint(run_, state_at(7), model, optimizer_state(3));
  EXPECT_EQ(dir, run_ / "checkpoints" / "step_000007");
  EXPECT_EQ(latest_text(run_), "checkpoints/step_000007\n");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"model.safetensors", "optimizer.safetensors", "state.json"}));

  Toy other(1000, 2);
  Checkpoint c = load_checkpoint(resolve_checkpoint(run_), other);
  expect_same(other.state_dict(), model.state_dict());
  expect_same(c.model, model.state_dict());
  expect_same(c.optimizer, optimizer_state(3));
  EXPECT_EQ(c.dir, dir);
  EXPECT_EQ(c.state.step, 7);
  EXPECT_EQ(c.state.config_yaml, "model:\n  dim: 8\n");
  EXPECT_EQ(c.state.trainer, state_at(7).trainer);
  EXPECT_EQ(c.gau_version, gau::version());
}

TEST_F(CheckpointTest, WithoutOptimizerStateThereIsNoOptimizerFile) {
  Toy model(10, 1);
  const fs::path dir = save_checkpoint(run_, state_at(1), model);
  EXPECT_FALSE(fs::exists(dir / "optimizer.safetensors"));
  EXPECT_TRUE(read_checkpoint(dir).optimizer.empty());
}

TEST_F(CheckpointTest, AnotherConfigListsTheDifferences) {
  Toy model(100, 1);
  const fs::path dir = save_checkpoint(run_, state_at(1), model);
  Toy bigger(120, 1, 4);
  std::string err = test::error_of([&] { load_checkpoint(dir, bigger); });
  EXPECT_THAT(err, HasSubstr("checkpoint " + (dir / "model.safetensors").string() + " does not fit the model"));
  EXPECT_THAT(err, HasSubstr("missing keys (1): extra"));
  EXPECT_THAT(err, HasSubstr("w: the model has f32[120]"));
  EXPECT_THAT(err, HasSubstr("the state dict f32[100]"));
}

TEST_F(CheckpointTest, ReservedOrMalformedTrainerStateIsRefused) {
  Toy model(4, 1);
  CheckpointState s = state_at(1);
  s.trainer["step"] = 3;
  EXPECT_THAT(test::error_of([&] { save_checkpoint(run_, s, model); }), HasSubstr("\"step\" is reserved"));
  s.trainer = nlohmann::json::array();
  EXPECT_THAT(test::error_of([&] { save_checkpoint(run_, s, model); }), HasSubstr("must be a JSON object, got array"));
}

// The crash tests fork ("fast" death tests) rather than re-run the test in a new process, so
// that the child writes into this test's run directory. Every tensor is made before the fork:
// the child runs no OpenMP region, which is not fork-safe.
//
// A SIGKILL while model.safetensors of step 2 is half written (a 4 MB tensor, killed after its
// first MB): step 1 stays loadable, `latest` still names it, and the partial directory is
// neither listed nor resolved, and is cleared by the next save.
TEST_F(CheckpointTest, KilledMidWriteLeavesThePreviousCheckpoint) {
  GTEST_FLAG_SET(death_test_style, "fast");
  Toy first(1 << 20, 1);
  save_checkpoint(run_, state_at(1), first, optimizer_state(1));
  Toy second(1 << 20, 2);
  const layers::StateDict second_optimizer = optimizer_state(2);
  EXPECT_EXIT(
      {
        set_write_hook([](const fs::path& target, uint64_t written) {
          if (target.filename() == "model.safetensors" && written >= (1u << 20)) std::raise(SIGKILL);
        });
        save_checkpoint(run_, state_at(2), second, second_optimizer);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  EXPECT_EQ(latest_text(run_), "checkpoints/step_000001\n");
  EXPECT_FALSE(fs::exists(run_ / "checkpoints" / "step_000002"));
  bool partial = false;
  for (const auto& e : fs::directory_iterator(run_ / "checkpoints"))
    partial |= e.path().filename().string().find(".partial-") != std::string::npos;
  EXPECT_TRUE(partial) << "the killed save should have left its staging directory behind";
  ASSERT_EQ(list_checkpoints(run_).size(), 1u);
  Toy restored(1 << 20, 3);
  Checkpoint c = load_checkpoint(resolve_checkpoint(run_), restored);
  EXPECT_EQ(c.state.step, 1);
  expect_same(restored.state_dict(), first.state_dict());

  save_checkpoint(run_, state_at(2), second);
  for (const auto& e : fs::directory_iterator(run_ / "checkpoints"))
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".partial-")));
  EXPECT_EQ(latest_text(run_), "checkpoints/step_000002\n");
}

// Killed while replacing `latest` itself: the pointer keeps its old target, which loads.
TEST_F(CheckpointTest, KilledWhileUpdatingLatestKeepsTheOldPointer) {
  GTEST_FLAG_SET(death_test_style, "fast");
  Toy first(64, 1), second(64, 2);
  save_checkpoint(run_, state_at(1), first);
  EXPECT_EXIT(
      {
        set_write_hook([](const fs::path& target, uint64_t) {
          if (target.filename() == "latest") std::raise(SIGKILL);
        });
        save_checkpoint(run_, state_at(2), second);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  EXPECT_EQ(latest_text(run_), "checkpoints/step_000001\n");
  EXPECT_TRUE(fs::exists(run_ / "checkpoints" / "step_000002" / "state.json")) << "the child did not get that far";
  Toy restored(64, 3);
  EXPECT_EQ(load_checkpoint(resolve_checkpoint(run_), restored).state.step, 1);
  expect_same(restored.state_dict(), first.state_dict());
}

TEST_F(CheckpointTest, AFailedSaveCleansUpAndKeepsLatest) {
  Toy model(64, 1);
  save_checkpoint(run_, state_at(1), model);
  set_write_hook([](const fs::path& target, uint64_t) {
    if (target.filename() == "optimizer.safetensors") throw std::runtime_error("disk full (injected)");
  });
  EXPECT_THROW(save_checkpoint(run_, state_at(2), model, optimizer_state(1)), std::runtime_error);
  set_write_hook(nullptr);
  EXPECT_EQ(latest_text(run_), "checkpoints/step_000001\n");
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(run_ / "checkpoints")) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"step_000001"});
}

TEST_F(CheckpointTest, SavingAStepAgainReplacesIt) {
  Toy a(32, 1), b(32, 2), into(32, 3);
  save_checkpoint(run_, state_at(5), a);
  save_checkpoint(run_, state_at(5), b);
  load_checkpoint(resolve_checkpoint(run_), into);
  expect_same(into.state_dict(), b.state_dict());
  EXPECT_EQ(list_checkpoints(run_).size(), 1u);
}

TEST_F(CheckpointTest, DamagedCheckpointsGiveClearErrors) {
  Toy model(256, 1);
  const fs::path dir = save_checkpoint(run_, state_at(1), model, optimizer_state(1));
  const fs::path weights = dir / "model.safetensors";
  const std::string good = test::read_bytes(weights);

  test::write_bytes(weights, good.substr(0, good.size() - 100));
  std::string truncated = test::error_of([&] { read_checkpoint(dir); });
  EXPECT_THAT(truncated,
              HasSubstr("checkpoint " + dir.string() + ": model.safetensors has " + std::to_string(good.size() - 100) +
                        " bytes but state.json recorded " + std::to_string(good.size()) + " (truncated"));

  std::string flipped = good;
  flipped[flipped.size() - 10] ^= 0x01;  // in the data: only the CRC can tell
  test::write_bytes(weights, flipped);
  EXPECT_THAT(test::error_of([&] { read_checkpoint(dir); }), HasSubstr("model.safetensors has CRC-32C"));

  flipped = good;
  flipped[20] ^= 0x40;  // in the JSON header
  test::write_bytes(weights, flipped);
  std::string header = test::error_of([&] { read_checkpoint(dir); });
  EXPECT_THAT(header, HasSubstr(weights.string()));
  EXPECT_NE(header, "");

  test::write_bytes(weights, good);
  EXPECT_EQ(test::error_of([&] { read_checkpoint(dir); }), "");
  fs::remove(dir / "optimizer.safetensors");
  EXPECT_THAT(test::error_of([&] { read_checkpoint(dir); }),
              HasSubstr("state.json lists optimizer.safetensors but the file is missing"));
  test::write_bytes(dir / "state.json", "{\"step\": 1,");
  EXPECT_THAT(test::error_of([&] { read_checkpoint(dir); }), HasSubstr("state.json is not valid JSON"));
  test::write_bytes(dir / "state.json", "{\"format_version\": 1, \"step\": 1}");
  EXPECT_THAT(test::error_of([&] { read_checkpoint(dir); }), HasSubstr("state.json lacks an entry"));
  test::write_bytes(dir / "state.json", "{\"format_version\": 99}");
  EXPECT_THAT(test::error_of([&] { read_checkpoint(dir); }), HasSubstr("has format version 99"));
}

TEST_F(CheckpointTest, KeepLastKNeverDeletesLatest) {
  Toy model(8, 1);
  for (int step = 1; step <= 5; ++step) save_checkpoint(run_, state_at(step * 10), model, {}, {.keep_last = 2});
  auto kept = list_checkpoints(run_);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].first, 40);
  EXPECT_EQ(kept[1].first, 50);
  // Resumed from step 40 and saved an earlier step: `latest` (step 20) outranks age.
  save_checkpoint(run_, state_at(20), model, {}, {.keep_last = 1});
  kept = list_checkpoints(run_);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].first, 20);
  EXPECT_EQ(kept[1].first, 50);
  EXPECT_EQ(latest_text(run_), "checkpoints/step_000020\n");
}

TEST(GeneratorState, RestoredGeneratorDrawsWhatTheOriginalWould) {
  Generator g(1234);
  ops::rand({10}, DType::f32, Device::cpu(), 0, 1, &g);
  nlohmann::json s = generator_state(g);
  EXPECT_EQ(s, (nlohmann::json{{"seed", 1234}, {"offset", 3}}));
  Generator r(1);
  restore_generator(r, s);
  EXPECT_EQ(r.offset(), g.offset());
  EXPECT_EQ(bytes_of(ops::rand({7}, DType::f32, Device::cpu(), 0, 1, &r)),
            bytes_of(ops::rand({7}, DType::f32, Device::cpu(), 0, 1, &g)));
  EXPECT_THAT(test::error_of([&] { restore_generator(r, {{"seed", -1}}); }), HasSubstr("restore_generator"));
}

}  // namespace
}  // namespace gau::trainers
