// --set overrides: values parsed as YAML (scalars, flow lists and maps, list indices), maps
// created on the way, each malformed override with its message, and wrong values caught by the
// schema and named after their override.
#include <gtest/gtest.h>

#include "tests/support/checks.h"
#include "tests/trainers/config/config_files.h"
#include "trainers/config/load.h"
#include "trainers/config/resolve.h"

namespace gau::config {
namespace {

using gau::test::error_of;
using test::ConfigFiles;
using test::expect_has;

const char* kModel =
    "model:\n"
    "  type: language_model\n"
    "  vocab: 256\n"
    "  dim: 32\n"
    "  blocks: [{type: gau, s: 16}, {type: gau}]\n"
    "optim:\n"
    "  lr: 1e-3\n"
    "data: {source: synthetic}\n";

TEST(Overrides, SetScalarsListsMapsAndIndexedEntries) {
  ConfigFiles files;
  const LoadedConfig c =
      load_config(files.write("x.yaml", kModel), {"optim.lr=3e-4", "optim.betas=[0.8, 0.9]", "model.blocks[1].s=8",
                                                  "train.steps=7", "logging={progress: lines}", "optim.lr=2e-4"});
  EXPECT_EQ(c.root["optim"]["lr"].as<double>(), 2e-4);  // in order: the last one wins
  ASSERT_EQ(c.root["optim"]["betas"].size(), 2u);
  EXPECT_EQ(c.root["optim"]["betas"][1].as<double>(), 0.9);
  EXPECT_EQ(c.root["model"]["blocks"][1]["s"].as<int>(), 8);
  EXPECT_EQ(c.root["model"]["blocks"][0]["s"].as<int>(), 16);
  EXPECT_EQ(c.root["train"]["steps"].as<int>(), 7);  // a map created for it
  EXPECT_EQ(c.root["logging"]["progress"].as<std::string>(), "lines");
  const YAML::Node r = resolve_config(c);
  EXPECT_EQ(r["optim"]["lr"].as<double>(), 2e-4);
  EXPECT_EQ(r["train"]["steps"].as<int>(), 7);
  EXPECT_EQ(r["train"]["seed"].as<int>(), 1);  // the rest of train: defaults
}

TEST(Overrides, MalformedOnesAreClearErrors) {
  ConfigFiles files;
  const std::string x = files.write("x.yaml", kModel);
  auto error = [&](const std::string& set) { return error_of([&] { load_config(x, {set}); }); };
  expect_has(error("optim.lr"), "--set optim.lr: expected key.path=value (e.g. optim.lr=3e-4)");
  expect_has(error("=3"), "--set =3: empty key path before '='");
  expect_has(error("optim..lr=3"), "--set optim..lr=3: empty key in the path 'optim..lr'");
  expect_has(error("optim.lr="), "--set optim.lr=: no value after '='");
  expect_has(error("optim.betas=[1, 2"), "--set optim.betas=[1, 2: the value is not valid YAML");
  expect_has(error("model.blocks[x].s=1"), "--set model.blocks[x].s=1: bad list index in 'blocks[x]'");
  // Through a scalar or a list, with where that node was written.
  expect_has(error("optim.lr.x=1"), "--set optim.lr.x=1: optim.lr (" + x +
                                        ":7:7) is a scalar ('1e-3'), not a map: it cannot hold the key 'x'");
  expect_has(error("model.blocks.s=1"), "--set model.blocks.s=1: model.blocks (" + x +
                                            ":5:11) is a list of 2, not a map: it cannot hold the key 's'");
  expect_has(error("model.blocks.1=null"), "it cannot hold the key '1'; to set element 1, write model.blocks[1]=null");
  expect_has(error("model.blocks[2].s=1"),
             "--set model.blocks[2].s=1: model.blocks (" + x + ":5:11) is a list of 2: it has no [2]");
  expect_has(error("model.dim[0]=1"), "--set model.dim[0]=1: model.dim (" + x + ":4:8) is a scalar ('32'), not a list");
  expect_has(error("train.steps[0]=1"), "--set train.steps[0]=1: train.steps is not written, so it has no [0]");
}

TEST(Overrides, ValuesAreTypeCheckedByTheSchema) {
  ConfigFiles files;
  const std::string x = files.write("x.yaml", kModel);
  auto error = [&](const std::string& set) { return error_of([&] { resolve_config(load_config(x, {set})); }); };
  expect_has(error("optim.lr=abc"), "optim.lr (--set optim.lr=abc): expected a number, got 'abc'");
  expect_has(error("train.steps=-1"), "train.steps (--set train.steps=-1): must be >= 1, got -1");
  expect_has(error("train.stepz=3"), "train.stepz (--set train.stepz=3): unknown key 'stepz'; did you mean 'steps'?");
  expect_has(error("model.blocks[1].s=x"), "model.blocks[1].s (--set model.blocks[1].s=x): expected an integer");
  expect_has(error("precision=fp8"), "precision.dtype (--set precision=fp8): 'fp8' is not one of: fp32, bf16, fp16");
}

}  // namespace
}  // namespace gau::config
