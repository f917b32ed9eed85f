// The schema: each error (unknown key with its suggestion, wrong type, out of range, unknown
// section, a section's own check) with its message and line:column; typed reading with defaults;
// shorthand; one section per name; the keys' documentation. (The data:, optim: and schedule:
// sections' own errors: sections_test.cpp.)
#include "trainers/config/schema.h"

#include <gtest/gtest.h>

#include "layers/registry.h"
#include "tests/support/checks.h"
#include "tests/trainers/config/config_files.h"
#include "trainers/config/resolve.h"
#include "trainers/config/run_sections.h"
#include "trainers/config/train_options.h"

namespace gau::config {
namespace {

using gau::test::error_of;
using test::ConfigFiles;
using test::expect_has;

// The line of `text` that starts with `start` ("" when none).
std::string line_of(const std::string& text, const std::string& start) {
  const size_t at = text.find("\n" + start);
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

// The sections every run needs, on lines 1 and 2.
const char* kModelAndData =
    "model: {type: language_model, vocab: 256, dim: 16, blocks: {type: gau, s: 8}, layers: 1}\n"
    "data: {source: synthetic}\n";

class SchemaErrors : public ::testing::Test {
 protected:
  // The error resolving file_, written with kModelAndData then `rest` (from line 3).
  std::string error(const std::string& rest) {
    files_.write("x.yaml", std::string(kModelAndData) + rest);
    return error_of([&] { resolve_config(load_config(file_)); });
  }
  ConfigFiles files_;
  const std::string file_ = files_.path("x.yaml");
};

TEST_F(SchemaErrors, UnknownKeyWithSuggestion) {
  const std::string msg = error("train:\n  steps: 10\n  eval_evry: 5\n");
  expect_has(msg, "train.eval_evry (" + file_ + ":5:3): unknown key 'eval_evry'; did you mean 'eval_every'?");
  expect_has(msg, "valid keys: steps, device, seed");
}

TEST_F(SchemaErrors, WrongType) {
  expect_has(error("train:\n  steps: many\n"), "train.steps (" + file_ + ":4:10): expected an integer, got 'many'");
  expect_has(error("logging: {tensorboard: maybe}\n"),
             "logging.tensorboard (" + file_ + ":3:24): expected true or false, got 'maybe'");
  expect_has(error("optim: {betas: 0.9}\n"),
             "optim.betas (" + file_ + ":3:16): expected a list of 2 numbers, got '0.9'");
  expect_has(error("distributed: [1]\n"), "distributed (" + file_ + ":3:14): expected a map of keys, got a list");
}

TEST_F(SchemaErrors, OutOfRangeAndChecks) {
  expect_has(error("train: {grad_accumulation: 0}\n"),
             "train.grad_accumulation (" + file_ + ":3:28): must be >= 1, got 0");
  expect_has(error("distributed: {zero: 2}\n"), "distributed.zero (" + file_ + ":3:21): must be in [0, 1], got 2");
  expect_has(error("logging: {progress: bars}\n"),
             "logging.progress (" + file_ + ":3:21): 'bars' is not one of: auto, bar, lines; did you mean 'bar'?");
  expect_has(error("train: {device: gpu1}\n"),
             "train.device (" + file_ + ":3:17): expected cpu, cuda or cuda:N, got 'gpu1'");
}

TEST_F(SchemaErrors, UnknownSectionAndMissingModel) {
  const std::string msg = error("trian: {steps: 1}\n");
  expect_has(msg, "trian (" + file_ + ":3:1): unknown section 'trian'; did you mean 'train'?");
  expect_has(msg, "valid sections: data, distributed, logging, model");
  const std::string no_model = files_.write("no_model.yaml", "train: {steps: 1}\n");
  expect_has(error_of([&] { resolve_config(load_config(no_model)); }), "model: the config needs a model section");
}

TEST(Schema, TypedReadFillsDefaultsAndShorthand) {
  ConfigFiles files;
  const LoadedConfig c = load_config(
      files.write("x.yaml", std::string(kModelAndData) + "train: {steps: 42, device: 'cuda:1'}\nprecision: bf16\n"));
  const TrainOptions t = train_section().read(c);
  EXPECT_EQ(t.steps, 42);
  EXPECT_EQ(t.device, "cuda:1");
  EXPECT_EQ(t.log_every, TrainOptions{}.log_every);
  EXPECT_EQ(precision_section().read(c).dtype, "bf16");
  EXPECT_EQ(logging_section().read(c).progress, "auto");  // absent: all defaults
  const YAML::Node r = resolve_config(c);
  EXPECT_EQ(r["precision"]["dtype"].as<std::string>(), "bf16");
  EXPECT_EQ(r["train"]["max_time_minutes"].as<double>(), 0);
  // A stored resolved section reads back the same.
  EXPECT_EQ(train_section().read(r["train"]).steps, 42);
}

struct Knobs {
  int64_t level = 3;
};

TEST(Schema, OneSectionPerName) {
  Section<Knobs> first("knobs", "the first");
  first.integer("level", &Knobs::level, layers::Range::at_least(0), "a level");
  Section<Knobs> second("knobs", "the second");
  Schema schema;
  schema.add(first);
  expect_has(error_of([&] { schema.add(second); }), "config section 'knobs' is declared twice");
  ASSERT_EQ(schema.sections().size(), 1u);
  EXPECT_EQ(schema.find("knobs")->help(), "the first");
}

TEST(Schema, DescribesEveryKey) {
  const std::string all = describe_schema();
  for (const char* s : {"model:", "data:", "optim:", "schedule:", "train:", "precision:", "distributed:", "logging:"})
    expect_has("\n" + all, "\n" + std::string(s) + "\n");
  const std::string train = describe_schema("train");
  expect_has(line_of(train, "  steps "), "  integer >= 1, default 1000");
  expect_has(line_of(train, "  device "), "  string, default cpu");
  expect_has(line_of(train, "  run_dir "), "  string, default \"\"");
  EXPECT_EQ(train.find("logging:"), std::string::npos);
  expect_has(line_of(describe_schema("distributed"), "  zero "), "  integer in [0, 1], default 0");
  // A section read by a function names the header that documents its keys, and lists them by type.
  expect_has(describe_schema("data"), "trainers/data/data_config.h");
  expect_has(describe_schema("optim"), "optim/factory.h");
  expect_has(describe_schema("schedule"), "optim/schedule.h");
  expect_has(error_of([] { describe_schema("trian"); }), "no config section 'trian'; did you mean 'train'?");
}

TEST(Schema, ListsTheKeysOfEachTypeOfAReaderSection) {
  const std::string optim = describe_schema("optim");
  expect_has(line_of(optim, "  type "), "one of: sgd, adam, adamw, lamb, adafactor, lion, default adamw");
  const std::string adamw = describe_schema("optim.adamw");
  expect_has(adamw, "\n  type: adamw\n");
  expect_has(line_of(adamw, "    betas "), "list of 2 numbers in [0, 1), default [0.9, 0.999]");
  expect_has(line_of(adamw, "    weight_decay "), "number >= 0, default 0.01");
  EXPECT_EQ(adamw.find("type: sgd"), std::string::npos);
  EXPECT_EQ(adamw.find("momentum"), std::string::npos);
  const std::string adam_decay = line_of(describe_schema("optim.adam"), "    weight_decay ");
  EXPECT_EQ(adam_decay.substr(adam_decay.rfind(',')), ", default 0");
  expect_has(line_of(describe_schema("optim.adafactor"), "    beta1 "), "number >= 0, optional (unset by default)");

  expect_has(line_of(describe_schema("schedule.cosine"), "    total_steps "), "(unset: train.steps), optional");
  expect_has(line_of(describe_schema("schedule.inverse_sqrt"), "    timescale "), "number > 0, optional");

  // Keys of nested readers are listed by their path in the section, merged over the examples.
  const std::string text = describe_schema("data.text");
  expect_has(line_of(text, "    path "), "string, required");
  expect_has(line_of(text, "    tokenizer.type "), "one of: byte, sentencepiece, default byte");
  expect_has(line_of(text, "    tokenizer.train.vocab_size "), "integer >= 8, default 4000");
  EXPECT_LT(text.find("tokenizer.model"), text.find("tokenizer.train.vocab_size"));
  EXPECT_LT(text.find("tokenizer.train.max_sentences"), text.find("    eos "));
  const std::string synthetic = describe_schema("data.synthetic");
  expect_has(line_of(synthetic, "    task.pairs "), "integer in [1, vocab_size - 2], default min(8, vocab_size - 2)");
  expect_has(line_of(synthetic, "    task.length "), "integer >= 1, default 8");
  EXPECT_EQ(synthetic.find("    path "), std::string::npos);

  // The model section lists every registered layer type, each with its own keys only.
  const std::string model = describe_schema("model");
  for (const std::string& name : layers::Registry::global().names()) expect_has(model, "\n  type: " + name + "\n");
  const std::string lm = describe_schema("model.language_model");
  expect_has(line_of(lm, "    blocks "), "a block config, or a list of them, required");
  EXPECT_EQ(lm.find("kernel"), std::string::npos);
  expect_has(line_of(describe_schema("model.gau"), "    e "), "integer >= 1, default 2 dim");

  expect_has(error_of([] { describe_schema("model.gua"); }), "no type 'gua'; did you mean 'gau'?");
  expect_has(error_of([] { describe_schema("train.steps"); }), "has fixed keys, not types");
}

// gau config --keys says what each key means: every key of every section has a line of help, the
// keys of each type of the model, data, optim and schedule sections (from their readers) included.
TEST(Schema, EveryListedKeyHasHelp) {
  for (const SectionSchema* section : Schema::global().sections())
    for (const KeyGroup& group : section->key_groups())
      for (const KeyRow& row : group.rows)
        EXPECT_FALSE(row.help.empty()) << section->name() << (group.type.empty() ? "" : "." + group.type) << ": "
                                       << row.name;
  expect_has(describe_schema("model.gau"), "\n                       width of u and v, the gated expansion\n");
}

// Writing a listed default changes nothing: the listing says what the readers fill in.
TEST(Schema, ListedDefaultsAreWhatTheReadersFillIn) {
  for (const char* name : {"optim", "schedule"}) {
    const SectionSchema& section = *Schema::global().find(name);
    for (const KeyGroup& group : section.key_groups()) {
      const YAML::Node plain = YAML::Load("{" + group.type_key + ": " + group.type + "}");
      const std::string filled = YAML::Dump(section.resolve(plain));
      for (const KeyRow& row : group.rows) {
        if (row.fallback == "required" || row.fallback == "unset" || row.name == group.type_key) continue;
        if (group.type == "adafactor" && row.name == "lr") continue;  // derived from relative_step
        SCOPED_TRACE(std::string(name) + "." + group.type + "." + row.name + ": " + row.fallback);
        YAML::Node written = YAML::Clone(plain);
        written[row.name] = YAML::Load(row.fallback);
        EXPECT_EQ(YAML::Dump(section.resolve(written)), filled);
      }
    }
  }
}

}  // namespace
}  // namespace gau::config
