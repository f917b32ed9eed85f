// The data: section: defaults, errors with key path and file:line:column, and the datasets it
// builds (text with a document or token split, token files with a separate validation set,
// synthetic tasks), with their loader options.
#include "trainers/data/data_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/checks.h"
#include "tests/trainers/data/data_test_util.h"
#include "trainers/data/dataset.h"

namespace gau::data {
namespace {

using gau::test::error_of;
using test::expect_has;
using test::ScratchDir;

DataConfig read(const std::string& yaml) { return read_data_config(YAML::Load(yaml), "cfg.yaml"); }

TEST(DataConfig, DefaultsAreFilledIn) {
  const DataConfig c = read("{path: corpus.txt}");
  EXPECT_EQ(c.source, "text");
  EXPECT_EQ(c.tokenizer.type, "byte");
  EXPECT_EQ(c.loader.seq_len, 256);
  EXPECT_EQ(c.loader.batch_size, 8);
  EXPECT_TRUE(c.loader.shuffle);
  EXPECT_TRUE(c.loader.packing);
  EXPECT_EQ(c.loader.prefetch, 2);
  EXPECT_DOUBLE_EQ(c.val_fraction, 0.05);
  EXPECT_EQ(c.eos, kEosAuto);
  EXPECT_EQ(c.filled["seq_len"].as<int64_t>(), 256);
  EXPECT_EQ(c.filled["tokenizer"]["type"].as<std::string>(), "byte");
  EXPECT_EQ(c.filled["eos"].as<std::string>(), "auto");

  const DataConfig s = read("{source: synthetic, task: {type: copy, length: 5}}");
  EXPECT_EQ(s.loader.seq_len, 11) << "a synthetic row defaults to one example";
  EXPECT_FALSE(s.loader.packing);
  EXPECT_EQ(s.filled["task"]["train_examples"].as<int64_t>(), 10000);
}

TEST(DataConfig, ErrorsNameTheKeyAndPosition) {
  expect_has(error_of([] { read("path: x\nseq_length: 64\n"); }),
             "data.seq_length (cfg.yaml:2:1): unknown key 'seq_length'; did you mean 'seq_len'?");
  expect_has(error_of([] { read("path: x\nval_fraction: 0.7\n"); }),
             "data.val_fraction (cfg.yaml:2:15): must be a finite number in [0, 0.5], got 0.7");
  expect_has(error_of([] { read("source: tokens\n"); }),
             "data.path (cfg.yaml:1:1): missing required key 'path' (a string)");
  expect_has(error_of([] { read("{path: x, source: txt}"); }), "'txt' is not one of: text, tokens, synthetic");
  expect_has(error_of([] { read("{path: x, format: llmc}"); }), "data.format (cfg.yaml:1:11): unknown key 'format'");
  expect_has(error_of([] { read("{path: x, eos: end}"); }),
             "data.eos (cfg.yaml:1:16): expected auto, none or a token id");
  expect_has(error_of([] { read("{path: x, val_path: y, val_fraction: 0.1}"); }),
             "must be 0 when val_path gives the validation set");
  expect_has(error_of([] { read("{path: x, tokenizer: {type: sentencepiece}}"); }),
             "data.tokenizer (cfg.yaml:1:22): a sentencepiece tokenizer takes either model: PATH");
  expect_has(error_of([] { read("{path: x, tokenizer: {type: sentencepiece, train: {vocab_size: 100}}}"); }),
             "data.tokenizer.train.vocab_size (cfg.yaml:1:64): byte_fallback needs 260 pieces");
  expect_has(error_of([] { read("{path: x, tokenizer: {type: byte, vocab: 3}}"); }),
             "data.tokenizer.vocab (cfg.yaml:1:35): unknown key 'vocab'");
  expect_has(error_of([] { read("{source: synthetic, task: {pairs: 4}, seq_len: 8}"); }),
             "data.seq_len (cfg.yaml:1:48): one associative_recall example is 11 tokens");
  expect_has(error_of([] { read("{source: synthetic, task: {vocab_size: 6, pairs: 5}}"); }),
             "data.task.pairs (cfg.yaml:1:50): must be in [1, 4], got 5");
  expect_has(error_of([] { read("{source: synthetic, packing: true}"); }),
             "data.packing (cfg.yaml:1:30): a synthetic source is never packed");
  EXPECT_FALSE(read("{source: synthetic, packing: false}").loader.packing);
}

TEST(Dataset, EmptyTextIsCalledEmpty) {
  ScratchDir dir;
  test::write_bytes(dir / "empty.txt", "");
  expect_has(error_of([&] { build_dataset(read("{path: " + (dir / "empty.txt") + "}"), ""); }),
             "empty.txt holds no text: the file is empty");
}

// What reading the files finds wrong is said of the key that named them: a user reads data.path
// and its line, not only a path.
TEST(Dataset, ReadErrorsNameTheKeyThatGaveThePath) {
  ScratchDir dir;
  std::filesystem::create_directories(dir / "void");
  test::write_bytes(dir / "run/config.yaml", "model: {}");
  std::filesystem::create_directories(dir / "run/checkpoints");
  test::write_bytes(dir / "a.txt", "alpha");
  expect_has(error_of([&] { build_dataset(read("{path: " + (dir / "void") + "}"), ""); }),
             "data.path (cfg.yaml:1:8): " + (dir / "void") + ": no files in this directory");
  const std::string run_as_data =
      error_of([&] {
    build_dataset(read("{val_path: " + (dir / "run") + ", path: " + (dir / "a.txt") + ", val_fraction: 0}"), "");
  });
  expect_has(run_as_data, "data.val_path (cfg.yaml:1:12): ");
  expect_has(run_as_data, "run: is a gau run directory (config.yaml, checkpoints/), not data");
  const DataConfig no_token_files = read("{source: tokens, vocab_size: 10, path: " + (dir / "void") + "}");
  expect_has(error_of([&] { build_dataset(no_token_files, ""); }),
             "data.path (cfg.yaml:1:40): " + (dir / "void") + ": no '*.bin' files");
}

TEST(Dataset, TextSplitsByDocumentsOrTokensAndAppendsTheSeparator) {
  ScratchDir dir;
  test::write_bytes(dir / "c/1.txt", "alpha");
  test::write_gzip(dir / "c/2.txt.gz", "beta!");
  test::write_bytes(dir / "c/3.txt", "gamma");
  test::write_bytes(dir / "c/4.txt", "delta");
  DataConfig cfg = read("{path: " + (dir / "c") + ", val_fraction: 0.25, val_split: documents}");
  Dataset ds = build_dataset(cfg, "");
  EXPECT_EQ(ds.vocab_size, 256);
  EXPECT_EQ(ds.eos_id, 0);
  EXPECT_EQ(ds.train.size(), 18);
  EXPECT_EQ(ds.train.num_documents(), 3);
  EXPECT_EQ(ds.tokenizer->decode(ds.train.tokens(0, 18)), std::string("alpha\0beta!\0gamma\0", 18));
  EXPECT_EQ(ds.tokenizer->decode(ds.val.tokens(0, ds.val.size())), std::string("delta\0", 6));

  cfg = read("{path: " + (dir / "c") + ", val_fraction: 0.2, eos: none}");
  ds = build_dataset(cfg, "");
  EXPECT_EQ(ds.train.size() + ds.val.size(), 20);
  EXPECT_EQ(ds.val.size(), 4);
  EXPECT_EQ(ds.tokenizer->decode(ds.val.tokens(0, 4)), "elta");
  EXPECT_EQ(ds.val.num_documents(), 1);
  EXPECT_EQ(ds.train.num_documents(), 4) << "the cut starts a validation document inside the last file";
  EXPECT_EQ(ds.pad_id, 0);

  expect_has(error_of([&] { build_dataset(read("{path: " + (dir / "c") + ", eos: 300}"), ""); }),
             "data.eos (cfg.yaml:1:");
  expect_has(error_of([&] { build_dataset(read("{path: " + (dir / "c") + ", eos: 300}"), ""); }),
             "eos id 300 is not below the vocabulary size 256");
  test::write_bytes(dir / "one/only.txt", "x");
  expect_has(error_of([&] {
               build_dataset(read("{path: " + (dir / "one") + ", val_fraction: 0.1, val_split: documents}"), "");
             }),
             "data.val_fraction (cfg.yaml:1:");
}

TEST(Dataset, TokenFilesWithAValidationPath) {
  ScratchDir dir;
  test::write_llmc<uint16_t>(dir / "train/a.bin", {1, 2, 3, 9, 4, 5});
  test::write_llmc<uint16_t>(dir / "train/b.bin", {6, 7});
  test::write_llmc<uint16_t>(dir / "val.bin", {8, 9, 1});
  const DataConfig cfg = read("{source: tokens, format: llmc, vocab_size: 10, eos: 9, path: " + (dir / "train") +
                              ", val_path: " + (dir / "val.bin") + "}");
  const Dataset ds = build_dataset(cfg, "");
  EXPECT_EQ(ds.tokenizer, nullptr);
  EXPECT_EQ(ds.train.tokens(0, 8), (std::vector<int32_t>{1, 2, 3, 9, 4, 5, 6, 7}));
  EXPECT_EQ(ds.train.document_starts(), (std::vector<int64_t>{0, 4, 6}));
  EXPECT_EQ(ds.val.size(), 3);
  EXPECT_EQ(ds.pad_id, 9);
  const std::string msg = error_of(
      [&] { build_dataset(read("{source: tokens, format: llmc, vocab_size: 9, path: " + (dir / "train") + "}"), ""); });
  expect_has(msg, dir / "train/a.bin" + ": token 3 (byte offset 1030) is 9, not below the vocabulary size 9");
}

TEST(Dataset, SyntheticSplitsAndLoaderOptions) {
  const DataConfig cfg = read(
      "{source: synthetic, batch_size: 4, task: {type: sorting, length: 4, vocab_size: 8, "
      "train_examples: 64, val_examples: 8}}");
  const Dataset ds = build_dataset(cfg, "");
  EXPECT_EQ(ds.vocab_size, 8);
  EXPECT_EQ(ds.train.num_documents(), 64);
  EXPECT_EQ(ds.val.num_documents(), 8);
  const LoaderOptions train = loader_options(cfg, ds, Split::train, 1, 2);
  const LoaderOptions val = loader_options(cfg, ds, Split::val);
  EXPECT_TRUE(train.shuffle);
  EXPECT_FALSE(val.shuffle);
  EXPECT_EQ(train.rank, 1);
  EXPECT_EQ(train.world_size, 2);
  EXPECT_EQ(train.name, "data.train (cfg.yaml:1:1)");
  EXPECT_EQ(val.name, "data.val (cfg.yaml:1:1)");
  Loader loader(ds.val, val);
  EXPECT_EQ(loader.steps_per_epoch(), 2);
  EXPECT_EQ(loader.next().ids.shape(), (Shape{4, 9}));
}

TEST(Dataset, TheDefaultRunsJargonFile) {
  const std::string path = "/usr/share/doc/jargon-text/jargon.txt.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent: scripts/setup.sh installs jargon-text";
  const DataConfig cfg = read("{path: " + path + ", seq_len: 512}");
  const Dataset ds = build_dataset(cfg, "");
  const int64_t total = ds.train.size() + ds.val.size();
  EXPECT_GT(total, 1500000);
  EXPECT_NEAR(static_cast<double>(ds.val.size()) / static_cast<double>(total), 0.05, 1e-5);
  Loader loader(ds.train, loader_options(cfg, ds, Split::train));
  EXPECT_EQ(loader.steps_per_epoch(), (ds.train.size() + 512 * 8 - 1) / (512 * 8));
  const Batch b = loader.next();
  EXPECT_EQ(b.num_targets, 8 * 512);
}

}  // namespace
}  // namespace gau::data
