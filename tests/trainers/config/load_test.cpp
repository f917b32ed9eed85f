// load_config: base: inheritance (relative paths, deep merge, lists replaced, several bases in
// order, another type replacing a section, nulls deleting keys), keys written twice, missing
// files, cycles and syntax errors with their positions, and the origins that send a value's
// error to the file it came from.
#include "trainers/config/load.h"

#include <gtest/gtest.h>

#include "tests/support/checks.h"
#include "tests/trainers/config/config_files.h"
#include "trainers/config/resolve.h"

namespace gau::config {
namespace {

using gau::test::error_of;
using test::ConfigFiles;
using test::expect_has;

TEST(LoadConfig, BasesMergeDeepRelativeToTheIncludingFileAndListsReplace) {
  ConfigFiles files;
  files.write("shared/model.yaml",
              "model: {type: language_model, vocab: 256, dim: 32, blocks: {type: gau, s: 16}, layers: 2}\n"
              "optim: {lr: 1e-3, betas: [0.9, 0.999]}\n");
  files.write("shared/optim.yaml", "base: model.yaml\noptim: {lr: 5e-4, eps: 1e-6}\n");
  const std::string top = files.write("runs/x.yaml",
                                      "base: ../shared/optim.yaml\n"
                                      "model:\n  blocks: {s: 32}\n  layers: 3\n"
                                      "optim:\n  betas: [0.8]\n");
  const LoadedConfig c = load_config(top);
  const YAML::Node& r = c.root;
  EXPECT_FALSE(r["base"]);
  EXPECT_EQ(r["model"]["type"].as<std::string>(), "language_model");  // from the base's base
  EXPECT_EQ(r["model"]["blocks"]["type"].as<std::string>(), "gau");   // merged two maps deep
  EXPECT_EQ(r["model"]["blocks"]["s"].as<int>(), 32);                 // the file over its bases
  EXPECT_EQ(r["model"]["layers"].as<int>(), 3);
  EXPECT_EQ(r["optim"]["lr"].as<double>(), 5e-4);  // the nearer base over the farther
  EXPECT_EQ(r["optim"]["eps"].as<double>(), 1e-6);
  ASSERT_EQ(r["optim"]["betas"].size(), 1u);  // a list replaces, never merges
  EXPECT_EQ(r["optim"]["betas"][0].as<double>(), 0.8);
  ASSERT_EQ(c.files.size(), 3u);
  EXPECT_EQ(c.files.front(), files.path("shared/model.yaml"));
  EXPECT_EQ(c.files.back(), top);
}

TEST(LoadConfig, ListedBasesMergeInOrder) {
  ConfigFiles files;
  files.write("a.yaml", "train: {steps: 1, seed: 7}\n");
  files.write("b.yaml", "train: {steps: 2}\n");
  const LoadedConfig c = load_config(files.write("x.yaml", "base: [a.yaml, b.yaml]\ntrain: {log_every: 3}\n"));
  EXPECT_EQ(c.root["train"]["steps"].as<int>(), 2);
  EXPECT_EQ(c.root["train"]["seed"].as<int>(), 7);
  EXPECT_EQ(c.root["train"]["log_every"].as<int>(), 3);
}

// A section naming another type than its base's replaces it whole; a null deletes an inherited
// key, from a file or from --set.
TEST(LoadConfig, AnotherTypeReplacesTheSectionAndNullDeletes) {
  ConfigFiles files;
  files.write("base.yaml",
              "schedule: {type: cosine, warmup_steps: 50, min_ratio: 0.1}\n"
              "optim: {type: adamw, lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8}\n"
              "train: {steps: 7, seed: 3}\n");
  const LoadedConfig c = load_config(files.write("x.yaml",
                                                 "base: base.yaml\n"
                                                 "schedule: {type: constant}\n"
                                                 "optim: {betas: ~}\n"
                                                 "train: {seed: null}\n"),
                                     {"optim.eps=null", "optim.type=sgd"});
  EXPECT_EQ(c.root["schedule"].size(), 1u);  // the cosine's warmup_steps and min_ratio are gone
  EXPECT_EQ(c.root["schedule"]["type"].as<std::string>(), "constant");
  EXPECT_FALSE(c.root["optim"]["betas"]);
  EXPECT_FALSE(c.root["optim"]["eps"]);
  EXPECT_EQ(c.root["optim"]["lr"].as<double>(), 1e-2);  // --set of type alone keeps the other keys
  EXPECT_EQ(c.root["optim"]["type"].as<std::string>(), "sgd");
  EXPECT_FALSE(c.root["train"]["seed"]);
  EXPECT_EQ(c.root["train"]["steps"].as<int>(), 7);
  // The same type merges as before.
  const LoadedConfig same =
      load_config(files.write("y.yaml", "base: base.yaml\nschedule: {type: cosine, min_ratio: 0.2}\n"));
  EXPECT_EQ(same.root["schedule"]["warmup_steps"].as<int>(), 50);
  EXPECT_EQ(same.root["schedule"]["min_ratio"].as<double>(), 0.2);
}

TEST(LoadConfig, AKeyWrittenTwiceIsAnError) {
  ConfigFiles files;
  const std::string x = files.write("x.yaml", "train: {steps: 5}\nmodel: {dim: 8}\ntrain: {seed: 2}\n");
  expect_has(error_of([&] { load_config(x); }), x + ":3:1: key 'train' is written twice in one map (first at 1:1)");
  const std::string y = files.write("y.yaml", "train:\n  steps: 5\n  steps: 6\n");
  expect_has(error_of([&] { load_config(y); }), y + ":3:3: key 'steps' is written twice");
}

// plugins: adds to the bases' list (each path once, relative to the file naming it), so a base
// that uses a plugin's layer keeps it; a null drops the inherited ones.
TEST(LoadConfig, PluginListsAddUp) {
  ConfigFiles files;
  files.write("shared/base.yaml", "plugins: [libmine.so]\n");
  const std::string child =
      files.write("runs/x.yaml", "base: ../shared/base.yaml\nplugins: [libmore.so, ../shared/libmine.so]\n");
  const YAML::Node plugins = load_config(child).root["plugins"];
  ASSERT_EQ(plugins.size(), 2u);
  EXPECT_EQ(plugins[0].as<std::string>(), files.path("shared/libmine.so"));
  EXPECT_EQ(plugins[1].as<std::string>(), files.path("runs/libmore.so"));
  const std::string none = files.write("runs/none.yaml", "base: ../shared/base.yaml\nplugins: null\n");
  EXPECT_FALSE(load_config(none).root["plugins"]);
  expect_has(error_of([&] { load_config(files.path("dir")); }), "not found");
  std::filesystem::create_directories(files.path("dir"));
  expect_has(error_of([&] { load_config(files.path("dir")); }), "is a directory, not a YAML file");
}

TEST(LoadConfig, MissingFiles) {
  ConfigFiles files;
  expect_has(error_of([&] { load_config(files.path("nope.yaml")); }),
             "config file '" + files.path("nope.yaml") + "' not found");
  const std::string x = files.write("x.yaml", "train: {steps: 1}\nbase: [ok.yaml, gone.yaml]\n");
  files.write("ok.yaml", "");
  expect_has(error_of([&] { load_config(x); }), x + ":2:17: base file '" + files.path("gone.yaml") + "' not found");
}

TEST(LoadConfig, BaseCycleIsNamed) {
  ConfigFiles files;
  const std::string a = files.write("a.yaml", "base: b.yaml\n");
  const std::string b = files.write("b.yaml", "train: {steps: 1}\nbase: a.yaml\n");
  expect_has(error_of([&] { load_config(a); }), b + ":2:7: base cycle: " + a + " -> " + b + " -> " + a);
  const std::string self = files.write("self.yaml", "base: [self.yaml]\n");
  expect_has(error_of([&] { load_config(self); }), self + ":1:8: base cycle: " + self + " -> " + self);
}

TEST(LoadConfig, BadBaseAndSyntaxErrors) {
  ConfigFiles files;
  const std::string x = files.write("x.yaml", "train: {steps: 1}\nbase: {a: 1}\n");
  expect_has(error_of([&] { load_config(x); }), x + ":2:7: base: expected a file name or a list of file names");
  const std::string y = files.write("y.yaml", "train:\n  steps: [1, 2\n");
  expect_has(error_of([&] { load_config(y); }), y + ":3:1: YAML syntax error");
  const std::string z = files.write("z.yaml", "- a\n- b\n");
  expect_has(error_of([&] { load_config(z); }), z + ":1:1: expected a map of sections");
}

TEST(LoadConfig, ErrorsNameTheFileAValueCameFrom) {
  ConfigFiles files;
  const std::string base = files.write("base.yaml",
                                       "model:\n"
                                       "  type: language_model\n"
                                       "  vocab: 256\n"
                                       "  dim: 32\n"
                                       "  blocks: {type: gau, kernel: relu3}\n"
                                       "  layers: 2\n"
                                       "train:\n"
                                       "  steps: 0\n"
                                       "data: {source: synthetic}\n");
  // A block key written in the base, read at model.blocks[0] of a uniform stack.
  const std::string top = files.write("top.yaml", "base: base.yaml\ntrain: {steps: 5}\n");
  expect_has(error_of([&] { resolve_config(load_config(top)); }),
             "model.blocks[0].kernel (" + base + ":5:31): 'relu3' is not one of");
  const std::string fixed = files.write("fixed.yaml", "base: base.yaml\nmodel: {blocks: {kernel: relu2}}\n");
  expect_has(error_of([&] { resolve_config(load_config(fixed)); }),
             "train.steps (" + base + ":8:10): must be >= 1, got 0");
  const std::string unknown = files.write("unknown.yaml", "base: fixed.yaml\ntrain:\n  steps: 5\n  stepz: 5\n");
  expect_has(error_of([&] { resolve_config(load_config(unknown)); }),
             "train.stepz (" + unknown + ":4:3): unknown key 'stepz'; did you mean 'steps'?");
  expect_has(error_of([&] { resolve_config(load_config(unknown)); }), "--set train.KEY=null");
}

}  // namespace
}  // namespace gau::config
