// The training loop end to end on a synthetic task: it learns, it is deterministic, it resumes
// bit for bit after a stop or a SIGTERM (sent once or twice at once), it stops on a non-finite
// loss (or, under fp16, a collapsed loss scale) with the step and the last checkpoint named, its
// fp16 and accumulation paths train, and a run that fails to start or resume changes nothing.
#include "trainers/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/ops/copy.h"
#include "tests/support/checks.h"
#include "tests/support/files.h"
#include "trainers/checkpoint.h"
#include "trainers/data/dataset.h"
#include "trainers/data/sentencepiece_tokenizer.h"
#include "trainers/trained_model.h"
#include "trainers/run_dir.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using test::error_of;

// Associative recall with 2 pairs of 14 symbols: an example is k v k v SEP q a (7 tokens), and
// only a (the value of key q) is predicted, so a model that has learned nothing scores
// ln(14) = 2.64 nats. Softmax GAU heads learn it within a few hundred steps; the paper's relu²
// with 1/n plateaus longer (docs/model.md).
constexpr const char* kRecallConfig = R"(model:
  type: language_model
  vocab: 16
  dim: 32
  max_length: 16
  blocks: {type: gau, e: 64, s: 16, kernel: softmax, scale: inv_sqrt_s}
  layers: 2
data:
  source: synthetic
  task: {type: associative_recall, vocab_size: 16, pairs: 2, queries: 1, train_examples: 50000, val_examples: 200}
  seq_len: 7
  batch_size: 32
optim: {type: adamw, lr: 0.01, weight_decay: 0.0}
schedule: {type: constant, warmup_steps: 10}
train: {steps: 20, seed: 3, threads: 2, eval_every: 0, eval_steps: 4, checkpoint_every: 0, log_every: 1, sample_tokens: 0}
logging: {progress: lines, tensorboard: false}
)";

class TrainerTest : public ::testing::Test {
 protected:
  fs::path write_config(const std::string& text, const std::string& name = "recall.yaml") {
    const fs::path p = dir_.path() / name;
    test::write_bytes(p, text);
    return p;
  }
  TrainRequest request(const std::vector<std::string>& overrides, const std::string& run = "run") {
    TrainRequest r;
    r.config_file = write_config(kRecallConfig).string();
    r.overrides = overrides;
    r.run_dir = (dir_.path() / run).string();
    r.log = log_;
    return r;
  }
  TrainSummary train(const std::vector<std::string>& overrides, const std::string& run = "run") {
    Trainer t(request(overrides, run));
    return t.run();
  }
  TrainSummary resume(const std::string& run, const std::vector<std::string>& overrides = {}) {
    TrainRequest r;
    r.resume = (dir_.path() / run).string();
    r.overrides = overrides;
    r.log = log_;
    Trainer t(r);
    return t.run();
  }
  void SetUp() override { log_ = std::tmpfile(); }
  void TearDown() override { std::fclose(log_); }
  test::TempDir dir_;
  std::FILE* log_ = nullptr;
};

TEST_F(TrainerTest, LearnsAssociativeRecall) {
  // 1000 steps of 32 examples: the recall loss falls far below chance (ln 14 = 2.64 nats).
  const TrainSummary s = train({"train.steps=1000"});
  EXPECT_EQ(s.step, 1000);
  EXPECT_EQ(s.stop_reason, "steps");
  ASSERT_TRUE(s.final_eval.has_value());
  EXPECT_LT(s.final_eval->loss, 0.5) << "the model did not learn the recall task";
  EXPECT_GT(s.final_eval->targets, 0);
  EXPECT_TRUE(fs::exists(s.checkpoint / "model.safetensors"));
  EXPECT_EQ(latest_checkpoint(s.run_dir), s.checkpoint);
}

TEST_F(TrainerTest, SameSeedSameCurve) {
  const TrainSummary a = train({}, "a");
  const TrainSummary b = train({}, "b");
  EXPECT_EQ(a.losses, b.losses);  // bitwise
  const TrainSummary c = train({"train.seed=4"}, "c");
  EXPECT_NE(a.losses, c.losses);
}

// Bitwise equality of two checkpoints' weights and optimizer state.
void expect_same_checkpoint(const fs::path& a, const fs::path& b) {
  const Checkpoint ca = read_checkpoint(a), cb = read_checkpoint(b);
  EXPECT_EQ(ca.state.step, cb.state.step);
  for (const auto* dicts : {&ca.model, &ca.optimizer}) {
    const layers::StateDict& other = dicts == &ca.model ? cb.model : cb.optimizer;
    ASSERT_EQ(dicts->size(), other.size());
    for (const auto& [name, t] : *dicts) {
      const Tensor& u = other.at(name);
      ASSERT_EQ(t.nbytes(), u.nbytes()) << name;
      EXPECT_EQ(0, std::memcmp(t.data_ptr(), u.data_ptr(), t.nbytes())) << name << " differs";
    }
  }
  EXPECT_EQ(ca.state.trainer["loader"], cb.state.trainer["loader"]);
  EXPECT_EQ(ca.state.trainer["rng"], cb.state.trainer["rng"]);
}

TEST_F(TrainerTest, ResumeIsBitwiseIdentical) {
  // Cosine over a fixed 24 steps, so the schedule does not depend on where a run stops; dropout
  // draws from the saved RNG.
  const std::vector<std::string> common = {"schedule={type: cosine, warmup_steps: 4, total_steps: 24}",
                                           "model.blocks.dropout=0.1"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), common.begin(), common.end());
    return extra;
  };
  const TrainSummary whole = train(with({"train.steps=24"}), "whole");
  const TrainSummary first = train(with({"train.steps=12"}), "split");
  EXPECT_EQ(first.step, 12);
  const TrainSummary second = resume("split", {"train.steps=24"});
  EXPECT_EQ(second.start_step, 12);
  EXPECT_EQ(second.step, 24);
  std::vector<double> joined = first.losses;
  joined.insert(joined.end(), second.losses.begin(), second.losses.end());
  EXPECT_EQ(joined, whole.losses);
  expect_same_checkpoint(whole.checkpoint, second.checkpoint);
}

TEST_F(TrainerTest, GradientAccumulationTrains) {
  // 2 micro-batches of 16 rows against one of 32: the same examples, the same token-weighted mean,
  // so the curves agree to rounding (the sums are ordered differently).
  const TrainSummary whole = train({"train.steps=10"}, "whole");
  const TrainSummary acc = train({"train.steps=10", "train.grad_accumulation=2", "data.batch_size=16"}, "acc");
  ASSERT_EQ(whole.losses.size(), acc.losses.size());
  for (size_t i = 0; i < whole.losses.size(); ++i) EXPECT_NEAR(whole.losses[i], acc.losses[i], 1e-4) << "step " << i;
}

// Once `metrics` holds 3 lines, sends `signal` to this process `times` times back to back.
std::thread signal_after_three_steps(const fs::path& metrics, int signal, int times) {
  return std::thread([=] {
    for (int i = 0; i < 6000; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::ifstream in(metrics);
      int lines = 0;
      for (std::string l; std::getline(in, l);) ++lines;
      if (lines >= 3) break;
    }
    for (int i = 0; i < times; ++i) kill(getpid(), signal);
  });
}

TEST_F(TrainerTest, SigtermCheckpointsAndResumes) {
  const std::vector<std::string> overrides = {"train.steps=400", "schedule={type: constant}"};
  const fs::path metrics = dir_.path() / "sig" / "metrics.jsonl";
  // Once a few steps are logged, SIGTERM this process, as a scheduler would.
  std::thread killer = signal_after_three_steps(metrics, SIGTERM, 1);
  const TrainSummary s = train(overrides, "sig");
  killer.join();
  EXPECT_EQ(s.stop_reason, "SIGTERM");
  ASSERT_LT(s.step, 400);
  EXPECT_GE(s.step, 3);
  EXPECT_EQ(read_checkpoint(resolve_checkpoint(dir_.path() / "sig")).state.step, s.step);
  // The resumed run finishes, and its steps are those of an uninterrupted run.
  const TrainSummary rest = resume("sig", {"train.steps=" + std::to_string(s.step + 5)});
  EXPECT_EQ(rest.start_step, s.step);
  EXPECT_EQ(rest.step, s.step + 5);
  const TrainSummary whole = train({"train.steps=" + std::to_string(s.step + 5), "schedule={type: constant}"}, "whole");
  std::vector<double> tail(whole.losses.end() - 5, whole.losses.end());
  EXPECT_EQ(rest.losses, tail);
}

// A stop during setup (here while sentencepiece trains, which can take minutes on a real corpus)
// ends it before the first step with an error, and the new run's directory goes.
TEST_F(TrainerTest, ASignalDuringSetupStopsBeforeTheFirstStep) {
  std::string text;
  for (int i = 0; i < 4000; ++i) text += "line " + std::to_string(i * 7919 % 10007) + " of the quick brown fox\n";
  test::write_bytes(dir_.path() / "corpus.txt", text);
  const fs::path run = dir_.path() / "setup_stop";
  std::thread killer([&] {
    for (int i = 0; i < 20000 && !fs::exists(run / "config.yaml"); ++i)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    kill(getpid(), SIGTERM);
  });
  const std::string msg = error_of([&] {
    train({"data={source: text, path: " + (dir_.path() / "corpus.txt").string() +
               ", tokenizer: {type: sentencepiece, train: {vocab_size: 300}}, seq_len: 16, batch_size: 4}",
           "model.vocab=300"},
          "setup_stop");
  });
  killer.join();
  EXPECT_THAT(msg, HasSubstr("stopped by SIGTERM before the first step, while the run was being set up; nothing was "
                             "trained or kept"));
  EXPECT_FALSE(fs::exists(run));
}

// A run stopped before its first checkpoint (killed at once by a second Ctrl-C) is only its
// config.yaml: resuming it trains it from step 0, exactly as a new run of that config.
TEST_F(TrainerTest, ResumingARunWithoutACheckpointStartsItFromTheBeginning) {
  const TrainSummary whole = train({"train.steps=4"}, "whole");
  fs::create_directories(dir_.path() / "killed" / "checkpoints");
  fs::copy_file(dir_.path() / "whole" / "config.yaml", dir_.path() / "killed" / "config.yaml");
  const TrainSummary resumed = resume("killed");
  EXPECT_EQ(resumed.start_step, 0);
  EXPECT_EQ(resumed.step, 4);
  EXPECT_EQ(resumed.losses, whole.losses);  // bitwise
}

// A signal during a long evaluation stops the run there, with a checkpoint of that step, rather
// than after one more step.
TEST_F(TrainerTest, ASignalDuringAnEvaluationStopsAfterIt) {
  // The metrics line of step 3 is written just before its evaluation of 3000 examples starts.
  std::thread killer = signal_after_three_steps(dir_.path() / "eval_stop" / "metrics.jsonl", SIGINT, 1);
  const TrainSummary s = train({"train.steps=100", "train.eval_every=3", "train.eval_steps=1000",
                                "data.task.val_examples=3000"},
                               "eval_stop");
  killer.join();
  EXPECT_EQ(s.stop_reason, "SIGINT");
  EXPECT_EQ(s.step, 3);
  EXPECT_EQ(read_checkpoint(resolve_checkpoint(dir_.path() / "eval_stop")).state.step, 3);
}

// `timeout -s INT` signals the process and then its group: two copies at once are one request
// (a second request would end this test process with status 130).
TEST_F(TrainerTest, TheSameSignalTwiceAtOnceIsOneStop) {
  std::thread killer = signal_after_three_steps(dir_.path() / "twice" / "metrics.jsonl", SIGINT, 2);
  const TrainSummary s = train({"train.steps=400"}, "twice");
  killer.join();
  EXPECT_EQ(s.stop_reason, "SIGINT");
  EXPECT_LT(s.step, 400);
  EXPECT_EQ(read_checkpoint(resolve_checkpoint(dir_.path() / "twice")).state.step, s.step);
}

TEST_F(TrainerTest, NonFiniteLossStopsNamingStepAndCheckpoint) {
  // SGD at lr 1e30 overflows the weights in one step.
  try {
    train({"train.steps=50", "train.checkpoint_every=1", "train.clip_norm=0", "optim={type: sgd, lr: 1e30}"}, "nan");
    FAIL() << "training did not stop";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("step "));
    EXPECT_THAT(e.what(), HasSubstr("last good checkpoint is"));
    EXPECT_THAT(e.what(), HasSubstr("checkpoints/step_"));
  }
  // That checkpoint loads.
  EXPECT_NO_THROW(read_checkpoint(resolve_checkpoint(dir_.path() / "nan")));
  EXPECT_THAT(error_of([&] {
                train({"train.steps=50", "train.clip_norm=0", "optim={type: sgd, lr: 1e30}"}, "nan_early");
              }),
              HasSubstr("is nan (loss 2.772589); stopping before the update. The last good checkpoint is none: no "
                        "checkpoint was written yet. Lower optim.lr"));
  // A new run that fails in its first step has nothing to keep: its directory goes.
  EXPECT_THAT(error_of([&] { train({"model.embedding_init_std=1e30"}, "nan_first"); }),
              HasSubstr("step 1: the gradient norm is nan"));
  EXPECT_FALSE(fs::exists(dir_.path() / "nan_first"));
}

// Under fp16 every step of a diverged model overflows and is skipped; the run stops once the loss
// scale falls below precision.min_loss_scale instead of halving it for ever.
TEST_F(TrainerTest, Fp16StopsWhenTheLossScaleCollapses) {
  const std::string msg = error_of([&] {
    train({"train.steps=200", "precision={dtype: fp16, min_loss_scale: 1}", "train.clip_norm=0",
           "optim={type: sgd, lr: 1e30}"},
          "fp16_nan");
  });
  // 65536 halves to below 1 on the 17th skipped step in a row.
  EXPECT_THAT(msg, HasSubstr(": the fp16 loss scale fell to 0.5, below precision.min_loss_scale = 1, after 17 steps in "
                             "a row skipped"));
  EXPECT_THAT(msg, HasSubstr("the model has diverged"));
}

// When fp16's first update overflows the f16 weights (the f32 master weights stay finite), every
// later forward is nan and skipped: no such state is checkpointed, and the run fails at its end
// instead of reporting success.
TEST_F(TrainerTest, Fp16NeverCheckpointsADivergedModel) {
  const std::string msg = error_of([&] {
    train({"train.steps=8", "precision=fp16", "train.clip_norm=0", "optim={type: sgd, lr: 1e30}",
           "train.checkpoint_every=1"},
          "fp16_diverged");
  });
  EXPECT_THAT(msg, HasSubstr("the model has diverged"));
  const fs::path latest = resolve_checkpoint(dir_.path() / "fp16_diverged");
  EXPECT_THAT(msg, HasSubstr("The last good checkpoint is " + latest.string()));
  EXPECT_LE(read_checkpoint(latest).state.step, 1);
}

// A loss scale too large for f16 overflows every step: each is skipped and counted, so that the
// summary can say the run changed no weight rather than that it trained.
TEST_F(TrainerTest, Fp16CountsTheStepsItSkipped) {
  const TrainSummary s = train({"train.steps=6", "precision={dtype: fp16, loss_scale_init: 1e30}"}, "fp16_skips");
  EXPECT_EQ(s.step, 6);
  EXPECT_EQ(s.skipped_steps, 6);
  const TrainSummary fine = train({"train.steps=6", "precision=fp16"}, "fp16_fine");
  EXPECT_EQ(fine.skipped_steps, 0);
}

TEST_F(TrainerTest, Fp16AndBf16Train) {
  for (const char* precision : {"bf16", "fp16"}) {
    const TrainSummary s = train({"train.steps=300", std::string("precision=") + precision}, precision);
    ASSERT_TRUE(s.final_eval.has_value()) << precision;
    EXPECT_LT(s.final_eval->loss, 1.5) << precision << " did not learn";
  }
}

// A validation split smaller than one batch is evaluated whole (its batch padded), not an error
// that would end the run at its first evaluation; logging.metrics: false writes no metrics.jsonl.
TEST_F(TrainerTest, ASplitSmallerThanABatchIsEvaluated) {
  const TrainSummary s = train({"train.steps=2", "data.task.val_examples=3", "logging.metrics=false"}, "small_val");
  ASSERT_TRUE(s.final_eval.has_value());
  EXPECT_EQ(s.final_eval->targets, 3);  // one answer per example, 32 rows of which 29 are filler
  EXPECT_FALSE(s.metrics);
  EXPECT_FALSE(fs::exists(dir_.path() / "small_val" / "metrics.jsonl"));
  EXPECT_TRUE(fs::exists(s.checkpoint / "model.safetensors"));
}

// A validation split of one token has no target: nothing is evaluated, rather than a loss of 0.
TEST_F(TrainerTest, ASplitWithoutTargetsIsNotEvaluated) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += static_cast<char>('a' + i % 16);
  test::write_bytes(dir_.path() / "letters.txt", text);
  const TrainSummary s = train({"data={source: text, path: " + (dir_.path() / "letters.txt").string() +
                                    ", val_fraction: 0.001, seq_len: 8, batch_size: 4}",
                                "model.vocab=256", "train.eval_every=1", "train.steps=2"},
                               "no_targets");
  EXPECT_FALSE(s.final_eval.has_value());
}

// Bits per byte are a causal LM's over bytes only; a masked LM's loss is over its masked tokens.
TEST_F(TrainerTest, OnlyACausalModelOverBytesReportsBitsPerByte) {
  std::string text;
  for (int i = 0; i < 4000; ++i) text += static_cast<char>('a' + (i * 7) % 16);
  test::write_bytes(dir_.path() / "letters.txt", text);
  const std::string data = "data={source: text, path: " + (dir_.path() / "letters.txt").string() +
                           ", val_fraction: 0.1, seq_len: 16, batch_size: 4}";
  for (const bool masked : {false, true}) {
    const std::string run = masked ? "masked" : "causal";
    std::vector<std::string> set = {data, "model.vocab=256", "train.steps=2", "train.eval_steps=2"};
    if (masked) set.push_back("model={type: masked_lm, vocab: 256, dim: 32, max_length: 16, layers: 1, "
                              "blocks: {type: gau, e: 64, s: 16, causal: false}}");
    const TrainSummary s = train(set, run);
    ASSERT_TRUE(s.final_eval.has_value()) << run;
    EXPECT_EQ(s.final_eval->masked, masked);
    EXPECT_EQ(s.final_eval->bits_per_byte(s.byte_level), !masked);
    std::ifstream metrics(dir_.path() / run / "metrics.jsonl");
    std::string line, eval;
    while (std::getline(metrics, line))
      if (line.find("\"kind\":\"eval\"") != std::string::npos) eval = line;
    EXPECT_THAT(eval, HasSubstr("\"bits_per_token\""));
    EXPECT_EQ(eval.find("bits_per_byte") != std::string::npos, !masked) << eval;
  }
}

TEST_F(TrainerTest, NewRunNeverWritesIntoAnOldOne) {
  train({"train.steps=2"}, "same");
  EXPECT_THROW(train({"train.steps=2"}, "same"), Error);
}

TEST_F(TrainerTest, VocabularyLargerThanTheModelIsAnError) {
  try {
    train({"model.vocab=8"}, "vocab");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.vocab"));
  }
}

TEST_F(TrainerTest, AMissingGpuNamesTrainDevice) {
  EXPECT_THAT(error_of([&] { train({"train.device=cuda:99"}, "gpu"); }),
              HasSubstr("train.device is cuda:99 (cuda:99 for rank 0), but this machine shows "));
}

// Relative data paths are read against the working directory; the run stores them absolute, so
// its data is found from anywhere afterwards (gau eval and generate in another directory).
TEST_F(TrainerTest, ARunFindsItsDataFromAnyDirectory) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "the quick brown fox jumps over the lazy dog\n";
  test::write_bytes(dir_.path() / "corpus.txt", text);
  const fs::path before = fs::current_path();
  fs::current_path(dir_.path());
  const TrainSummary s = train({"data={source: text, path: corpus.txt, seq_len: 16, batch_size: 4}", "model.vocab=256",
                                "train.steps=2", "train.checkpoint_every=2"});
  fs::current_path(before);
  EXPECT_EQ(s.step, 2);
  EXPECT_TRUE(s.generates) << "a language model on text can be prompted";
  EXPECT_FALSE(train({"train.steps=1"}, "recall").generates) << "synthetic ids have no tokenizer to prompt with";
  const YAML::Node stored = YAML::LoadFile((dir_.path() / "run" / "config.yaml").string());
  EXPECT_EQ(stored["data"]["path"].as<std::string>(), (dir_.path() / "corpus.txt").string());
  const TrainedModel m = load_trained_model(dir_.path() / "run", Device::cpu());
  const data::Dataset ds = data::build_dataset(m.data_config, m.run_dir.string());
  EXPECT_GT(ds.train.size(), 0);
  // Data the model cannot read is refused before a batch, naming the model's limit.
  const TrainedModel wide = load_trained_model(dir_.path() / "run", Device::cpu(), {"data.seq_len=64"});
  const data::Dataset wide_ds = data::build_dataset(wide.data_config, wide.run_dir.string());
  EXPECT_THAT(error_of([&] {
                data::check_data_fits_model(wide_ds, data::loader_options(wide.data_config, wide_ds, data::Split::val),
                                            256, 16);
              }),
              AllOf(HasSubstr("data.val ("), HasSubstr("rows of data.seq_len = 64 tokens, but model.max_length is 16")));
  EXPECT_THAT(error_of([&] {
                data::check_data_fits_model(ds, data::loader_options(m.data_config, ds, data::Split::val), 100, 0);
              }),
              HasSubstr("the data's vocabulary has 256 ids but model.vocab is 100"));
}

// A run that fails before its first step leaves nothing behind, so the corrected command works.
TEST_F(TrainerTest, AFailedStartLeavesNoRunBehind) {
  EXPECT_THROW(train({"model.vocab=8"}, "fails"), Error);
  EXPECT_FALSE(fs::exists(dir_.path() / "fails"));
  EXPECT_THAT(error_of([&] { train({"data.seq_len=20"}, "fails"); }),
              AllOf(HasSubstr("model.max_length"), HasSubstr("is 16 positions"),
                    HasSubstr("data.seq_len (--set data.seq_len=20) is 20 tokens per row")));
  EXPECT_FALSE(fs::exists(dir_.path() / "fails"));
  EXPECT_EQ(train({"train.steps=2"}, "fails").step, 2);
  // In a directory the user made, only what the run wrote goes.
  fs::create_directories(dir_.path() / "mine");
  test::write_bytes(dir_.path() / "mine" / "notes.txt", "mine");
  EXPECT_THROW(train({"model.vocab=8"}, "mine"), Error);
  EXPECT_TRUE(fs::exists(dir_.path() / "mine" / "notes.txt"));
  EXPECT_FALSE(fs::exists(dir_.path() / "mine" / "config.yaml"));
  EXPECT_FALSE(fs::exists(dir_.path() / "mine" / "checkpoints"));
  // Nor the run's copy of a sentencepiece model, which the corrected run would read instead.
  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) lines.push_back("the quick brown fox jumps over the lazy dog " + std::to_string(i));
  data::SentencePieceTrainOptions spm;
  spm.vocab_size = 44;
  spm.byte_fallback = false;
  data::SentencePieceTokenizer::train(lines, spm, (dir_.path() / "m.model").string());
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  test::write_bytes(dir_.path() / "corpus.txt", text);
  const std::string sentencepiece_data = "data={source: text, path: " + (dir_.path() / "corpus.txt").string() +
                                         ", tokenizer: {type: sentencepiece, model: " +
                                         (dir_.path() / "m.model").string() + "}, seq_len: 16, batch_size: 4}";
  EXPECT_THAT(error_of([&] { train({sentencepiece_data, "model.vocab=8"}, "mine"); }),
              HasSubstr("the data's vocabulary has 44 ids but model.vocab is 8"));
  EXPECT_FALSE(fs::exists(dir_.path() / "mine" / "tokenizer.model"));
  EXPECT_TRUE(fs::exists(dir_.path() / "mine" / "notes.txt"));
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A resume that fails keeps the run's config.yaml as it was; a resume past train.steps is an
// error, and one of a finished run trains and writes nothing.
TEST_F(TrainerTest, ResumeChangesTheRunOnlyWhenItTrains) {
  train({"train.steps=3"}, "r");
  const std::string config = file_text(dir_.path() / "r" / "config.yaml");
  const std::string metrics = file_text(dir_.path() / "r" / "metrics.jsonl");
  EXPECT_THROW(resume("r", {"model.dim=16", "train.steps=6"}), Error);  // the checkpoint does not fit
  EXPECT_EQ(file_text(dir_.path() / "r" / "config.yaml"), config);
  EXPECT_THAT(error_of([&] { resume("r", {"train.steps=2"}); }),
              HasSubstr("the run is at step 3, past train.steps = 2; train.steps counts from the run's start, so to "
                        "train on give more, e.g. --set train.steps=6"));
  const TrainSummary done = resume("r", {"optim.lr=0.5"});
  EXPECT_EQ(done.stop_reason, "already done");
  EXPECT_EQ(done.step, 3);
  EXPECT_EQ(file_text(dir_.path() / "r" / "config.yaml"), config);
  EXPECT_EQ(file_text(dir_.path() / "r" / "metrics.jsonl"), metrics);
  EXPECT_EQ(resume("r", {"train.steps=5"}).step, 5);
  EXPECT_NE(file_text(dir_.path() / "r" / "config.yaml"), config);  // now with steps: 5
}

std::string log_text(std::FILE* log) {
  std::fflush(log);
  std::rewind(log);
  std::string text;
  for (int c; (c = std::fgetc(log)) != EOF;) text += static_cast<char>(c);
  return text;
}

// GAU's inv_n scale divides by max_length: rows far shorter than that get a note (docs/model.md).
TEST_F(TrainerTest, AGauScaleOfAFarLongerLengthIsNoted) {
  train({"train.steps=1"}, "sqrt_s");  // scale: inv_sqrt_s
  EXPECT_EQ(log_text(log_).find("note: the GAU blocks' scale"), std::string::npos);
  train({"train.steps=1", "model.blocks.scale=inv_n"}, "inv_n");
  EXPECT_THAT(log_text(log_), HasSubstr("note: the GAU blocks' scale inv_n divides scores by model.max_length = 16, "
                                        "but rows are data.seq_len = 7 tokens: their scores are 2.3x smaller"));
}

// evaluate reports its start and each batch (gau eval's progress bar), with the loss so far.
TEST_F(TrainerTest, EvaluationReportsEachBatch) {
  const TrainSummary s = train({"train.steps=1"}, "eval_progress");
  TrainedModel m = load_trained_model(s.run_dir, Device::cpu());
  const data::Dataset ds = data::build_dataset(m.data_config, m.run_dir.string());
  std::vector<int64_t> done;
  double last_loss = -1;
  EvalOptions options{.max_batches = 3};
  options.on_batch = [&](int64_t d, int64_t total, double loss, int64_t) {
    done.push_back(d);
    EXPECT_EQ(total, 3);
    last_loss = loss;
  };
  const EvalResult r = evaluate(Objective(*m.model), *m.model, ds.val,
                                data::loader_options(m.data_config, ds, data::Split::val), options);
  EXPECT_EQ(done, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_DOUBLE_EQ(last_loss, r.loss);
}

// train.init_from starts a new run from another's weights (converted to its precision) with a
// fresh optimizer, step and data position; a resumed run reads its own checkpoint instead.
TEST_F(TrainerTest, InitFromStartsANewRunFromAnothersWeights) {
  const TrainSummary source = train({"train.steps=6"}, "source");
  const Checkpoint trained = read_checkpoint(source.checkpoint);
  const std::string init = "train.init_from=" + (dir_.path() / "source").string();
  for (const char* precision : {"fp32", "bf16"}) {
    const std::string run = std::string("tuned_") + precision;
    const TrainSummary s = train({init, "train.steps=2", "train.save_initial=true", std::string("precision=") + precision},
                                 run);
    EXPECT_EQ(s.start_step, 0);
    const Checkpoint first = read_checkpoint(dir_.path() / run / "checkpoints" / "step_000000");
    ASSERT_EQ(first.model.size(), trained.model.size());
    for (const auto& [name, t] : trained.model) {
      const Tensor want = ops::to_dtype(ops::to_dtype(t, first.model.at(name).dtype()), DType::f32);
      const Tensor got = ops::to_dtype(first.model.at(name), DType::f32);
      ASSERT_EQ(got.shape(), want.shape()) << name;
      EXPECT_EQ(0, std::memcmp(got.data_ptr(), want.data_ptr(), got.nbytes())) << precision << " " << name;
    }
  }
  // The bf16 run's weights initialise an f32 one; the source can go once the run has a checkpoint.
  const TrainSummary back = train({"train.init_from=" + (dir_.path() / "tuned_bf16").string(), "train.steps=2"}, "back");
  EXPECT_EQ(back.step, 2);
  fs::remove_all(dir_.path() / "tuned_bf16");
  EXPECT_EQ(resume("back", {"train.steps=3"}).step, 3);
  // A missing source or another model is an error at the key, and leaves no run behind.
  EXPECT_THAT(error_of([&] { train({"train.init_from=" + (dir_.path() / "nope").string()}, "bad"); }),
              HasSubstr("train.init_from (--set train.init_from="));
  EXPECT_THAT(error_of([&] { train({init, "model.dim=16"}, "bad"); }),
              AllOf(HasSubstr("train.init_from"), HasSubstr("does not fit the model")));
  EXPECT_FALSE(fs::exists(dir_.path() / "bad"));
}

}  // namespace
}  // namespace gau::trainers
