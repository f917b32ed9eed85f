// Tokenizers: the byte tokenizer's lossless round trip, and sentencepiece models trained with the
// library's trainer on a small corpus, then loaded, encoding and decoding losslessly.
#include "trainers/data/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/checks.h"
#include "tests/trainers/data/data_test_util.h"
#include "trainers/data/data_config.h"
#include "trainers/data/dataset.h"
#include "trainers/data/sentencepiece_tokenizer.h"

namespace gau::data {
namespace {

using gau::test::error_of;
using test::expect_has;
using test::ScratchDir;

TEST(ByteTokenizer, RoundTripsEveryByte) {
  ByteTokenizer tok;
  std::string text;
  for (int i = 0; i < 256; ++i) text.push_back(static_cast<char>(i));
  text += "h\xc3\xa9llo\n\ttabs";
  const std::vector<int32_t> ids = tok.encode(text);
  ASSERT_EQ(ids.size(), text.size());
  for (int i = 0; i < 256; ++i) EXPECT_EQ(ids[i], i);
  EXPECT_EQ(ids[257], 0xc3);  // bytes, not characters
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.vocab_size(), 256);
  EXPECT_EQ(tok.eos_id(), 0);
  EXPECT_EQ(tok.config()["type"].as<std::string>(), "byte");
  expect_has(error_of([&] { tok.decode({65, 256}); }), "id 256 at position 1 is not a byte");
}

// A small corpus whose characters all occur often: every piece the text needs is learnable.
std::string small_corpus() {
  std::string text;
  const char* lines[] = {"the quick brown fox jumps over the lazy dog.", "pack my box with five dozen liquor jugs!",
                         "  two  spaces, then: how vexingly quick daft zebras jump",
                         "sphinx of black quartz, judge my vow"};
  for (int r = 0; r < 40; ++r)
    for (const char* l : lines) text += std::string(l) + " " + std::to_string(r % 10) + "\n";
  return text;
}

TEST(SentencePieceTokenizer, TrainsThenEncodesAndDecodesLosslessly) {
  ScratchDir dir;
  SentencePieceTrainOptions opt;
  opt.vocab_size = 64;
  opt.byte_fallback = false;
  const std::string corpus = small_corpus();
  for (const char* type : {"unigram", "bpe"}) {
    opt.model_type = type;
    const std::string model = dir / (std::string(type) + ".model");
    auto tok = SentencePieceTokenizer::train({corpus}, opt, model);
    EXPECT_TRUE(std::filesystem::exists(model)) << type;
    EXPECT_FALSE(std::filesystem::exists(dir / (std::string(type) + ".training.model"))) << type;
    EXPECT_EQ(tok->vocab_size(), 64) << type;
    // Whitespace runs, a leading space, newlines and a missing final newline all come back.
    const std::string text = " the lazy  fox jumps\n\nover 9 quartz zebras.\n  judge my vow";
    const std::vector<int32_t> ids = tok->encode(text);
    EXPECT_LT(ids.size(), text.size()) << type << ": pieces longer than one character were learnt";
    for (int32_t id : ids) EXPECT_TRUE(id >= 0 && id < 64) << type;
    EXPECT_EQ(tok->decode(ids), text) << type;
    EXPECT_EQ(tok->decode(tok->encode(corpus)), corpus) << type;
    // The file loads on its own, with the same encoding.
    SentencePieceTokenizer loaded(model);
    EXPECT_EQ(loaded.encode(text), ids) << type;
    EXPECT_EQ(loaded.config()["model"].as<std::string>(), model);
    EXPECT_GE(loaded.eos_id(), 0);
    expect_has(error_of([&] { loaded.decode({1, 64}); }), "id 64 at position 1 is outside the vocabulary [0, 64)");
  }
}

TEST(SentencePieceTokenizer, ByteFallbackKeepsUnseenCharacters) {
  ScratchDir dir;
  SentencePieceTrainOptions opt;
  opt.vocab_size = 320;
  auto tok = SentencePieceTokenizer::train({small_corpus()}, opt, dir / "sp.model");
  const std::string text = "caf\xc3\xa9\tQ~ \xe2\x82\xac!";  // é, tab, capitals and € never occur in training
  EXPECT_EQ(tok->decode(tok->encode(text)), text);
}

TEST(SentencePieceTokenizer, ErrorsSayWhatFailed) {
  ScratchDir dir;
  expect_has(error_of([&] { SentencePieceTokenizer(dir / "missing.model"); }), "missing.model: cannot load");
  SentencePieceTrainOptions opt;
  opt.vocab_size = 5000;
  opt.byte_fallback = false;
  const std::string msg = error_of([&] { SentencePieceTokenizer::train({small_corpus()}, opt, dir / "big.model"); });
  expect_has(msg, "sentencepiece training (vocab_size 5000, model_type unigram) failed");
  expect_has(msg, "Vocabulary size too high");
  expect_has(error_of([&] { SentencePieceTokenizer::train({"\n\n"}, opt, dir / "e.model"); }), "no non-empty lines");
}

TEST(BuildTokenizer, TrainsIntoTheRunDirectoryAndReusesTheModel) {
  ScratchDir dir;
  const DataConfig cfg = read_data_config(
      YAML::Load("{path: x, tokenizer: {type: sentencepiece, train: {vocab_size: 64, byte_fallback: false}}}"));
  auto first = build_tokenizer(cfg.tokenizer, {small_corpus()}, dir / "run");
  ASSERT_TRUE(std::filesystem::exists(dir / "run/tokenizer.model"));
  // A resumed run loads the model it trained, even without the text.
  auto again = build_tokenizer(cfg.tokenizer, {}, dir / "run");
  EXPECT_EQ(again->encode("the quick fox"), first->encode("the quick fox"));
  EXPECT_EQ(again->name(), "sentencepiece(" + (dir / "run/tokenizer.model") + ")");

  const DataConfig other = read_data_config(
      YAML::Load("{path: x, tokenizer: {type: sentencepiece, train: {vocab_size: 80, byte_fallback: false}}}"));
  const std::string msg = error_of([&] { build_tokenizer(other.tokenizer, {small_corpus()}, dir / "run"); });
  expect_has(msg, "data.tokenizer");
  expect_has(msg, "has 64 pieces, but train.vocab_size is 80");
  expect_has(error_of([&] { build_tokenizer(cfg.tokenizer, {small_corpus()}, ""); }), "needs a run directory");

  const DataConfig load = read_data_config(
      YAML::Load("{path: x, tokenizer: {type: sentencepiece, model: " + (dir / "run/tokenizer.model") + "}}"));
  EXPECT_EQ(build_tokenizer(load.tokenizer, {}, "")->vocab_size(), 64);
  EXPECT_EQ(build_tokenizer(DataConfig{}.tokenizer, {}, "")->name(), "byte");
}

// A run keeps a copy of the model file it loads, and reads that copy from then on: moving or
// deleting the file does not break the run's eval, generate or resume.
TEST(BuildTokenizer, ARunKeepsTheModelFileItLoads) {
  ScratchDir dir;
  const DataConfig train = read_data_config(
      YAML::Load("{path: x, tokenizer: {type: sentencepiece, train: {vocab_size: 64, byte_fallback: false}}}"));
  auto original = build_tokenizer(train.tokenizer, {small_corpus()}, dir / "made");
  std::filesystem::rename(dir / "made/tokenizer.model", dir / "mine.model");
  const DataConfig load =
      read_data_config(YAML::Load("{path: x, tokenizer: {type: sentencepiece, model: " + (dir / "mine.model") + "}}"));
  std::filesystem::create_directories(dir / "run");
  keep_tokenizer_in_run(load.tokenizer, dir / "run");
  ASSERT_TRUE(std::filesystem::exists(dir / "run/tokenizer.model"));
  std::filesystem::remove(dir / "mine.model");
  auto kept = build_tokenizer(load.tokenizer, {}, dir / "run");
  EXPECT_EQ(kept->name(), "sentencepiece(" + (dir / "run/tokenizer.model") + ")");
  EXPECT_EQ(kept->encode("the quick fox"), original->encode("the quick fox"));
  keep_tokenizer_in_run(load.tokenizer, dir / "run");  // the copy exists: the missing file is not read
  keep_tokenizer_in_run(train.tokenizer, dir / "elsewhere");  // a trained model is in its run already
  keep_tokenizer_in_run(DataConfig{}.tokenizer, dir / "elsewhere");
  EXPECT_FALSE(std::filesystem::exists(dir / "elsewhere"));
  std::filesystem::remove(dir / "run/tokenizer.model");
  expect_has(error_of([&] { keep_tokenizer_in_run(load.tokenizer, dir / "run"); }), "cannot copy");
}

TEST(DataConfig, RunsStoreAbsolutePaths) {
  const YAML::Node data = YAML::Load(
      "{path: corpus/a.txt, val_path: '', tokenizer: {type: sentencepiece, model: ../m.model}, seq_len: 8}");
  const YAML::Node out = with_absolute_paths(data);
  const std::filesystem::path cwd = std::filesystem::current_path();
  EXPECT_EQ(out["path"].as<std::string>(), (cwd / "corpus/a.txt").string());
  EXPECT_EQ(out["tokenizer"]["model"].as<std::string>(), (cwd.parent_path() / "m.model").string());
  EXPECT_EQ(out["val_path"].as<std::string>(), "") << "no path stays none";
  EXPECT_EQ(out["seq_len"].as<int>(), 8);
  EXPECT_EQ(data["path"].as<std::string>(), "corpus/a.txt") << "the input is unchanged";
  EXPECT_EQ(with_absolute_paths(YAML::Load("{path: /abs/x.bin}"))["path"].as<std::string>(), "/abs/x.bin");
}

}  // namespace
}  // namespace gau::data
