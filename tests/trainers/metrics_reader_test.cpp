// Reading metrics.jsonl back: what MetricsWriter writes, labels, and the errors for bad files.
#include "trainers/metrics_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "tests/support/files.h"
#include "trainers/metrics.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;

// The message of the gau::Error that `read_metrics(path)` throws, or "" when it reads.
std::string read_error(const fs::path& path) {
  try {
    read_metrics(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(MetricsReader, ReadsWhatMetricsWriterWrites) {
  test::TempDir dir;
  const fs::path run = dir.path() / "default";
  fs::create_directories(run);
  {
    MetricsWriter m(run, {.tensorboard = false});
    m.log_train({.step = 10, .loss = 2.5, .lr = 1e-3, .tokens_per_s = 5000});
    m.log("sample", 10, {{"length", 64}});  // another kind: skipped
    m.log_eval(10, "val", {{"loss", 2.75}, {"bits_per_byte", 3.97}});
    m.log_train({.step = 20, .loss = std::numeric_limits<double>::quiet_NaN(), .lr = 2e-3});
  }
  const RunMetrics r = read_metrics(run);
  EXPECT_EQ(r.label, "default");
  EXPECT_EQ(r.file, run / "metrics.jsonl");
  ASSERT_EQ(r.train.size(), 2u);
  EXPECT_EQ(r.train[0].step, 10);
  EXPECT_EQ(r.train[0].loss, 2.5);
  EXPECT_EQ(r.train[0].lr, 1e-3);
  EXPECT_EQ(r.train[0].tokens_per_s, 5000);
  EXPECT_GT(r.train[0].time, 1.6e9);
  EXPECT_TRUE(std::isnan(r.train[1].loss)) << "null reads as NaN";
  ASSERT_EQ(r.eval.size(), 1u);
  EXPECT_EQ(r.eval[0].split, "val");
  EXPECT_EQ(r.eval[0].loss, 2.75);
  EXPECT_EQ(r.eval[0].bits_per_byte, 3.97);
}

TEST(MetricsReader, LabelsNameTheRun) {
  test::TempDir dir;
  const fs::path run = dir.path() / "gau_small";
  fs::create_directories(run);
  EXPECT_EQ(run_label(run), "gau_small");
  EXPECT_EQ(run_label(run.string() + "/"), "gau_small");
  EXPECT_EQ(run_label(run / "metrics.jsonl"), "gau_small");
  EXPECT_EQ(run_label(dir.path() / "torch_default.jsonl"), "torch_default");
}

TEST(MetricsReader, DamagedLineNamesFileAndLine) {
  test::TempDir dir;
  const fs::path file = dir.path() / "metrics.jsonl";
  test::write_bytes(file,
                    "{\"kind\":\"train\",\"step\":10,\"time\":1.7e9,\"loss\":2.5}\n"
                    "\n"
                    "{\"kind\":\"train\",\"step\":20,\"time\":1.7e9,\"lo\n");
  EXPECT_NE(read_error(file).find(file.string() + ":3: not a JSON line"), std::string::npos) << read_error(file);
  test::write_bytes(file, "{\"kind\":\"train\",\"step\":10,\"loss\":\"high\"}\n");
  EXPECT_NE(read_error(file).find(":1: \"loss\" should be a number or null"), std::string::npos) << read_error(file);
  test::write_bytes(file, "{\"kind\":\"train\",\"step\":1.5}\n");
  EXPECT_NE(read_error(file).find(":1: the record has no integer \"step\""), std::string::npos) << read_error(file);
  test::write_bytes(file, "[1, 2]\n");
  EXPECT_NE(read_error(file).find(":1: expected a JSON object per line"), std::string::npos) << read_error(file);
}

// A run killed mid-write leaves its last line cut, without a newline: the records before it are
// read, and the cut is noted. The same damage with its newline, or before the end, is an error.
TEST(MetricsReader, ALastLineCutMidWriteIsSkipped) {
  test::TempDir dir;
  const fs::path file = dir.path() / "metrics.jsonl";
  const std::string good = "{\"kind\":\"train\",\"step\":10,\"time\":1.7e9,\"loss\":2.5}\n";
  test::write_bytes(file, good + good + "{\"kind\":\"train\",\"st");
  const RunMetrics run = read_metrics(file);
  EXPECT_EQ(run.train.size(), 2u);
  EXPECT_EQ(run.cut_line, 3);
  test::write_bytes(file, good);
  EXPECT_EQ(read_metrics(file).cut_line, 0);
  test::write_bytes(file, good + "{\"kind\":\"train\",\"st\n");
  EXPECT_NE(read_error(file).find(":2: not a JSON line"), std::string::npos) << read_error(file);
  test::write_bytes(file, "{\"kind\":\"train\",\"st");
  EXPECT_NE(read_error(file).find("is empty"), std::string::npos) << read_error(file);
}

TEST(MetricsReader, MissingAndEmptyFilesAreErrors) {
  test::TempDir dir;
  EXPECT_NE(read_error(dir.path()).find("has no metrics.jsonl"), std::string::npos) << read_error(dir.path());
  EXPECT_NE(read_error(dir.path() / "nothing").find("no such run directory or metrics file"), std::string::npos);
  const fs::path file = dir.path() / "metrics.jsonl";
  test::write_bytes(file, "");
  EXPECT_NE(read_error(file).find("is empty"), std::string::npos) << read_error(file);
  test::write_bytes(file, "{\"kind\":\"sample\",\"step\":1}\n");
  EXPECT_NE(read_error(file).find("none of kind train or eval"), std::string::npos) << read_error(file);
}

}  // namespace
}  // namespace gau::trainers
