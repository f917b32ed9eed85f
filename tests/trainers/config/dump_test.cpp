// The resolved config and its dump: defaults filled in, numbers in their shortest form, empty
// maps inline, and a dump that loads and resolves to itself (for a small config with inheritance
// and overrides, and for configs/default.yaml).
#include <gtest/gtest.h>

#include "tests/trainers/config/config_files.h"
#include "trainers/config/load.h"
#include "trainers/config/resolve.h"

namespace gau::config {
namespace {

using test::ConfigFiles;

// dump(resolve(load(file))), then the same through the dump written to a file.
void expect_round_trip(const ConfigFiles& files, const std::string& file, const std::vector<std::string>& overrides) {
  const std::string dump = dump_config(resolve_config(load_config(file, overrides)));
  const std::string again = dump_config(resolve_config(load_config(files.write("dumped.yaml", dump))));
  EXPECT_EQ(again, dump);
}

TEST(Dump, FillsDefaultsInReadingOrderWithShortNumbers) {
  ConfigFiles files;
  files.write("base.yaml",
              "model: {type: language_model, vocab: 256, dim: 16, blocks: {type: gau, s: 8}, layers: 2}\n"
              "data: {source: synthetic}\n");
  const std::string x = files.write("x.yaml", "base: base.yaml\ntrain: {steps: 5}\noptim: {lr: 3e-4}\n");
  const std::string dump = dump_config(resolve_config(load_config(x, {"optim.betas=[0.9, 0.95]"})));
  EXPECT_NE(dump.find("lr: 3e-04\n"), std::string::npos) << dump;
  // Counts of a million and more stay integers (1e+06 would not read back as one).
  const std::string big = dump_config(resolve_config(load_config(x, {"train.steps=2000000"})));
  EXPECT_NE(big.find("  steps: 2000000\n"), std::string::npos) << big;
  EXPECT_NE(dump.find("betas: [0.9, 0.95]\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("  lr_multipliers: {}\n"), std::string::npos) << dump;  // an empty map on its key's line
  EXPECT_NE(dump.find("  steps: 5\n  device: cpu\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("    e: 32\n"), std::string::npos) << dump;  // the block's default, as the registry filled it
  const std::string text = "\n" + dump;
  size_t at = 0;
  for (const char* section : {"model", "data", "optim", "schedule", "train", "precision", "distributed", "logging"}) {
    const size_t found = text.find("\n" + std::string(section) + ":\n");
    ASSERT_NE(found, std::string::npos) << section << " in\n" << dump;
    EXPECT_GE(found, at) << section << " out of order in\n" << dump;
    at = found;
  }
  expect_round_trip(files, x, {"optim.betas=[0.9, 0.95]", "model.blocks.kernel=softmax"});
}

TEST(Dump, DefaultConfigRoundTrips) {
  ConfigFiles files;
  expect_round_trip(files, (test::source_configs() / "default.yaml").string(), {});
}

}  // namespace
}  // namespace gau::config
