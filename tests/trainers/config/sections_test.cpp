// The data:, optim: and schedule: sections as resolve_config checks them, through their owners'
// readers: each error with its message and file:line:column (or its --set), the defaults filled
// in, the checks that wait for the model or train.steps, and build_schedule's total_steps.
#include <gtest/gtest.h>

#include "tests/support/checks.h"
#include "tests/trainers/config/config_files.h"
#include "trainers/config/load.h"
#include "trainers/config/resolve.h"
#include "trainers/config/schedule_section.h"

namespace gau::config {
namespace {

using gau::test::error_of;
using test::ConfigFiles;
using test::expect_has;

const char* kModel = "model: {type: language_model, vocab: 256, dim: 16, blocks: {type: gau, s: 8}, layers: 1}\n";
// For the tests of the other sections: their own lines start at 3.
const char* kData = "data: {source: synthetic}\n";

class Sections : public ::testing::Test {
 protected:
  // file_, written with kModel then `rest` (from line 2), loaded with `overrides`.
  LoadedConfig load(const std::string& rest, const std::vector<std::string>& overrides = {}) {
    files_.write("x.yaml", std::string(kModel) + rest);
    return load_config(file_, overrides);
  }
  std::string error(const std::string& rest, const std::vector<std::string>& overrides = {}) {
    return error_of([&] { resolve_config(load(rest, overrides)); });
  }
  ConfigFiles files_;
  const std::string file_ = files_.path("x.yaml");
};

TEST_F(Sections, DataErrorsAtTheirPositions) {
  expect_has(error("data: {path: corpus.txt, seq_len: 0}\n"), "data.seq_len (" + file_ + ":2:35): must be >= 1, got 0");
  const std::string typo = error("data: {path: corpus.txt, batch_sise: 4}\n");
  expect_has(typo, "data.batch_sise (" + file_ + ":2:26): unknown key 'batch_sise'; did you mean 'batch_size'?");
  expect_has(typo, "valid keys: source, path, val_path, val_fraction");
  // A key of another source is an unknown one.
  expect_has(error("data: {source: synthetic, path: corpus.txt}\n"),
             "data.path (" + file_ + ":2:27): unknown key 'path'");
  expect_has(error("data: {source: text}\n"), "data.path (" + file_ + ":2:7): missing required key 'path'");
  // A nested reader's key.
  expect_has(
      error("data:\n  path: corpus.txt\n  tokenizer: {type: bite}\n"),
      "data.tokenizer.type (" + file_ + ":4:21): 'bite' is not one of: byte, sentencepiece; did you mean 'byte'?");
  expect_has(error("data: {path: corpus.txt}\n", {"data.val_fraction=0.9"}),
             "data.val_fraction (--set data.val_fraction=0.9): must be a finite number in [0, 0.5], got 0.9");
  expect_has(error("train: {steps: 1}\n"), "data: the config needs a data section");
}

TEST_F(Sections, DataDefaultsAreTheReaders) {
  const YAML::Node r = resolve_config(load("data: {path: corpus.txt}\n"))["data"];
  EXPECT_EQ(r["source"].as<std::string>(), "text");
  EXPECT_EQ(r["tokenizer"]["type"].as<std::string>(), "byte");
  EXPECT_EQ(r["val_fraction"].as<double>(), 0.05);
  EXPECT_EQ(r["seq_len"].as<int64_t>(), 256);
  EXPECT_EQ(r["eos"].as<std::string>(), "auto");
}

TEST_F(Sections, OptimErrorsAtTheirPositions) {
  const std::string momentum = error(std::string(kData) + "optim: {type: adamw, momentum: 0.9}\n");
  expect_has(momentum, "optim.momentum (" + file_ + ":3:22): unknown key 'momentum'");
  expect_has(momentum, "valid keys: type, no_decay, lr_multipliers, stochastic_rounding, seed, lr, betas");
  expect_has(error(std::string(kData) + "optim: {lr: fast}\n"),
             "optim.lr (" + file_ + ":3:13): expected a number, got 'fast'");
  expect_has(error(std::string(kData) + "optim: {type: sgd, lr: -1}\n"),
             "optim.lr (" + file_ + ":3:24): must be a finite number >= 0, got -1");
  expect_has(error(std::string(kData) + "optim: {betas: [0.9, 1]}\n"),
             "optim.betas (" + file_ + ":3:16): element 1 must be in [0, 1), got 1");
  expect_has(error(std::string(kData) + "optim: {lr: 1e-3}\n", {"optim.lr=abc"}),
             "optim.lr (--set optim.lr=abc): expected a number, got 'abc'");
}

TEST_F(Sections, OptimDefaultsAreTheTypesAndPatternsWaitForTheModel) {
  const YAML::Node adamw = resolve_config(load(kData))["optim"];
  EXPECT_EQ(adamw["type"].as<std::string>(), "adamw");
  EXPECT_EQ(adamw["weight_decay"].as<double>(), 0.01);
  EXPECT_EQ(adamw["eps"].as<double>(), 1e-8);
  EXPECT_FALSE(adamw["momentum"]);
  const YAML::Node sgd =
      resolve_config(load(std::string(kData) + "optim: {type: sgd, no_decay: ['*.nothing']}\n"))["optim"];
  EXPECT_EQ(sgd["momentum"].as<double>(), 0);
  EXPECT_FALSE(sgd["betas"]);
  EXPECT_EQ(sgd["no_decay"][0].as<std::string>(), "*.nothing");  // matched only when the optimizer is built
}

TEST_F(Sections, ScheduleErrorsAtTheirPositions) {
  expect_has(error(std::string(kData) + "schedule: {type: cosin}\n"),
             "schedule.type (" + file_ +
                 ":3:18): 'cosin' is not one of: constant, cosine, linear, inverse_sqrt; did you mean 'cosine'?");
  expect_has(error(std::string(kData) + "schedule: {type: cosine, warmup_steps: 50, total_steps: 40}\n"),
             "schedule.total_steps (" + file_ + ":3:57): must be > warmup_steps (50), got 40");
  expect_has(error(std::string(kData) + "schedule: {type: constant, min_ratio: 0.1}\n"),
             "schedule.min_ratio (" + file_ + ":3:28): unknown key 'min_ratio'");
  // Checked with total_steps still to come from train.steps.
  expect_has(error(std::string(kData) + "schedule: {type: linear, min_ratio: 2}\n"),
             "schedule.min_ratio (" + file_ + ":3:37): must be a finite number in [0, 1], got 2");
  expect_has(error(std::string(kData) + "schedule: {type: cosine, min_rato: 0.1}\n"),
             "schedule.min_rato (" + file_ + ":3:26): unknown key 'min_rato'; did you mean 'min_ratio'?");
}

TEST_F(Sections, TotalStepsIsTrainStepsUnlessWritten) {
  const LoadedConfig c = load(std::string(kData) + "schedule: {type: cosine, warmup_steps: 50, min_ratio: 0.1}\n");
  const YAML::Node resolved = resolve_config(c)["schedule"];
  EXPECT_FALSE(resolved["total_steps"]) << "the resolved config leaves it to train.steps";
  EXPECT_FALSE(c.root["schedule"]["total_steps"]) << "the loaded config is unchanged";
  EXPECT_EQ(resolved["min_ratio"].as<double>(), 0.1);

  const optim::Schedule s = build_schedule(resolved, 2e-3, 600);
  EXPECT_EQ(s.options().total_steps, 600);
  EXPECT_EQ(s.options().warmup_steps, 50);
  EXPECT_DOUBLE_EQ(s.lr_at(49), 2e-3);
  EXPECT_DOUBLE_EQ(s.lr_at(600), 2e-4);
  expect_has(error_of([&] { build_schedule(resolved, 2e-3, 50); }),
             "schedule: a cosine schedule without total_steps decays over train.steps (50), which must be more "
             "than schedule.warmup_steps (50)");

  const YAML::Node written = resolve_config(load(std::string(kData) + "schedule: {type: linear, total_steps: 80}\n"));
  EXPECT_EQ(build_schedule(written["schedule"], 1.0, 600).options().total_steps, 80);
  const YAML::Node floor = resolve_config(load(std::string(kData) + "schedule: {type: linear, min_lr: 0.5}\n" +
                                                "optim: {lr: 1.0}\n"));
  expect_has(error_of([&] { build_schedule(floor["schedule"], 0.1, 600); }),
             "schedule.min_lr: must be <= the base lr (0.1), got 0.5");
  EXPECT_EQ(build_schedule(resolve_config(load(kData))["schedule"], 0.1, 600).lr_at(0), 0.1);  // constant
}

// What joins sections is checked when the config resolves, so `gau config` rejects what
// `gau train` would: a warmup as long as the run, a floor above the optimizer's lr.
TEST_F(Sections, ScheduleIsCheckedAgainstTrainStepsAndTheLr) {
  expect_has(error_of([&] {
               resolve_config(load(std::string(kData) + "schedule: {type: cosine, warmup_steps: 20}\ntrain: {steps: 10}\n"));
             }),
             "decays over train.steps (10), which must be more than schedule.warmup_steps (20)");
  expect_has(error_of([&] {
               resolve_config(load(std::string(kData) + "schedule: {type: linear, min_lr: 0.5}\noptim: {lr: 0.1}\n"));
             }),
             "schedule.min_lr (" + file_ + "): must be <= the base lr (0.1), got 0.5");
}

// The data against the model, before any data is read: rows longer than the model's positions,
// a vocabulary the config fixes above model.vocab; and ZeRO-1 with an optimizer it cannot shard.
TEST_F(Sections, DataIsCheckedAgainstTheModelAndZeroAgainstTheOptimizer) {
  expect_has(error(std::string(kData), {"model.max_length=16", "data.seq_len=20"}),
             "model.max_length (--set model.max_length=16): is 16 positions, but data.seq_len "
             "(--set data.seq_len=20) is 20 tokens per row: raise model.max_length or lower data.seq_len");
  expect_has(error("data: {source: tokens, path: t.bin}\n"),
             "model.vocab (" + file_ + ":1:38): is 256, but the data (data.source (" + file_ +
                 ":2:16): tokens) has 50257 ids: set model.vocab to at least 50257");
  expect_has(error("data: {tokenizer: {type: sentencepiece, train: {vocab_size: 300}}, path: c.txt}\n"),
             "has 300 ids: set model.vocab to at least 300");
  EXPECT_NO_THROW(resolve_config(load("data: {source: tokens, path: t.bin, vocab_size: 256}\n")));
  EXPECT_NO_THROW(resolve_config(load("data: {tokenizer: {type: sentencepiece, model: m.model}, path: c.txt}\n")))
      << "a model file's vocabulary is known once it is loaded";
  expect_has(error(std::string(kData) + "optim: {type: lamb}\ndistributed: {zero: 1}\n"),
             "optim.type (" + file_ + ":3:15): lamb cannot run with distributed.zero (" + file_ +
                 ":4:21) = 1: ZeRO-1 shards the optimizer state by element");
  EXPECT_NO_THROW(resolve_config(load(std::string(kData) + "optim: {type: adamw}\ndistributed: {zero: 1}\n")));
}

// Keys that the chosen precision would leave unused are errors, not silently ignored.
TEST_F(Sections, KeysForAnotherPrecisionAreErrors) {
  expect_has(error(std::string(kData) + "precision: {dtype: bf16, loss_scale_init: 1024}\n"),
             "precision.loss_scale_init (" + file_ + ":3:43): sets fp16's loss scaling, but dtype is bf16");
  expect_has(error(std::string(kData) + "optim: {stochastic_rounding: true}\n"),
             "optim.stochastic_rounding (" + file_ + ":3:30): rounds the f32 master weights into bf16 or f16 "
             "parameters, but precision is fp32");
  EXPECT_NO_THROW(resolve_config(load(std::string(kData) + "precision: {dtype: fp16, loss_scale_init: 1024}\n")));
  EXPECT_NO_THROW(resolve_config(load(std::string(kData) + "optim: {stochastic_rounding: true}\nprecision: bf16\n")));
}

// cuDNN attention on a CPU run fails at the config, not at the first step.
TEST_F(Sections, ACudnnBackendNeedsACudaDevice) {
  const std::string blocks = "{type: transformer_pp, heads: 2, backend: cudnn}";
  expect_has(error(std::string(kData), {"model.blocks=" + blocks}),
             "model.blocks.backend (--set model.blocks=" + blocks + "): cudnn runs on CUDA devices only, but "
             "train.device is cpu; use backend: gau on the CPU");
  EXPECT_NO_THROW(resolve_config(load(std::string(kData) + "train: {device: cuda}\n", {"model.blocks=" + blocks})));
}

}  // namespace
}  // namespace gau::config
