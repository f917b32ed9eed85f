// metrics.jsonl lines and the matching TensorBoard records, and the resume cut.
#include "trainers/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "tests/support/files.h"
#include "trainers/crc32c.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

// The data of every record of an event file, each CRC checked.
std::vector<std::string> read_records(const fs::path& path) {
  const std::string b = test::read_bytes(path);
  std::vector<std::string> out;
  size_t at = 0;
  auto le = [&](size_t p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[p + i])) << (8 * i);
    return v;
  };
  while (at < b.size()) {
    const uint64_t n = le(at, 8);
    EXPECT_EQ(le(at + 8, 4), crc32c_masked(crc32c(b.data() + at, 8)));
    std::string data = b.substr(at + 12, n);
    EXPECT_EQ(le(at + 12 + n, 4), crc32c_masked(crc32c(data.data(), data.size())));
    out.push_back(data);
    at += 16 + n;
  }
  EXPECT_EQ(at, b.size());
  return out;
}

TEST(Metrics, TrainAndEvalLinesAndTheirEvents) {
  test::TempDir dir;
  MetricsWriter m(dir.path());
  m.log_train({.step = 10,
               .loss = 2.5,
               .lr = 3e-4,
               .grad_norm = 0.75,
               .tokens_per_s = 1234.5,
               .peak_memory_bytes = (int64_t{1} << 40) + 1,
               .loss_scale = 65536});
  // Written before returning: a reader sees the line now, without a flush or a close.
  ASSERT_EQ(read_lines(m.jsonl_path()).size(), 1u);
  m.log_eval(10, "val", {{"loss", 2.75}, {"bits_per_byte", 1.25}});
  m.log_train({.step = 11, .loss = std::numeric_limits<double>::quiet_NaN()});

  const auto lines = read_lines(dir.path() / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  const json& t = lines[0];
  EXPECT_EQ(t["kind"], "train");
  EXPECT_EQ(t["step"], 10);
  EXPECT_EQ(t["loss"], 2.5);
  EXPECT_EQ(t["lr"], 3e-4);
  EXPECT_EQ(t["grad_norm"], 0.75);
  EXPECT_EQ(t["tokens_per_s"], 1234.5);
  EXPECT_EQ(t["peak_memory_bytes"].get<int64_t>(), (int64_t{1} << 40) + 1);
  EXPECT_EQ(t["loss_scale"], 65536.0);
  EXPECT_GT(t["time"].get<double>(), 1.6e9);
  EXPECT_EQ(lines[1]["kind"], "eval");
  EXPECT_EQ(lines[1]["split"], "val");
  EXPECT_EQ(lines[1]["bits_per_byte"], 1.25);
  EXPECT_TRUE(lines[2]["loss"].is_null()) << "a NaN loss is written as null";

  // The event file: file_version, then one scalar event per value, stamped with the line's time.
  ASSERT_NE(m.events(), nullptr);
  const auto records = read_records(m.events()->path());
  ASSERT_EQ(records.size(), 1u + 6 + 2 + 6);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  const double time = t["time"].get<double>();
  EXPECT_EQ(records[1], encode_scalar_event(time, 10, "train/loss", 2.5f));
  EXPECT_EQ(records[6], encode_scalar_event(time, 10, "train/loss_scale", 65536.0f));
  EXPECT_EQ(records[8], encode_scalar_event(lines[1]["time"].get<double>(), 10, "eval/val/bits_per_byte", 1.25f));
}

TEST(Metrics, WithoutTensorBoardThereIsNoEventFile) {
  test::TempDir dir;
  MetricsWriter m(dir.path(), {.tensorboard = false});
  m.log("data", 0, {{"documents", 12}});
  EXPECT_EQ(m.events(), nullptr);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  EXPECT_EQ(read_lines(m.jsonl_path())[0]["documents"], 12.0);
}

TEST(Metrics, ResumeDropsWhatCameAfterTheCheckpoint) {
  test::TempDir dir;
  {
    MetricsWriter m(dir.path(), {.tensorboard = false});
    for (int s = 1; s <= 6; ++s) m.log_train({.step = s, .loss = 1.0 / s});
  }
  // A crash mid-line leaves half a line at the end.
  std::ofstream(dir.path() / "metrics.jsonl", std::ios::app) << "{\"kind\":\"train\",\"st";
  MetricsWriter m(dir.path(), {.tensorboard = false, .resume_step = 4});
  m.log_train({.step = 5, .loss = 0.5});
  const auto lines = read_lines(dir.path() / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lines[i]["step"], i + 1);
  EXPECT_EQ(lines[4]["step"], 5);
  EXPECT_EQ(lines[4]["loss"], 0.5);
}

// The event files are cut back too: a resumed writer starts a new file with a restart at the first
// new step, so TensorBoard drops the lost steps of the earlier file (tfevents_check.py restart).
TEST(Metrics, ResumeRestartsTheEventFilesAfterTheCheckpoint) {
  test::TempDir dir;
  fs::path first;
  {
    MetricsWriter m(dir.path());
    for (int s = 1; s <= 6; ++s) m.log_train({.step = s, .loss = 1.0 / s});
    first = m.events()->path();
  }
  // As a file from an earlier second: a resume usually comes later than the same second.
  fs::rename(first, dir.path() / "events.out.tfevents.1000000000.test");
  MetricsWriter m(dir.path(), {.resume_step = 4});
  for (int s = 5; s <= 6; ++s) m.log_train({.step = s, .loss = 10.0 + s});
  const auto records = read_records(m.events()->path());
  ASSERT_GE(records.size(), 2u);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  const std::string restart = records[1];
  ASSERT_EQ(restart.size(), 15u);  // wall_time 9, step 5 two, session_log four
  double wall;
  std::memcpy(&wall, restart.data() + 1, 8);
  EXPECT_EQ(restart, encode_session_start_event(wall, 5));

  auto py = test::python_with({"tensorboard"});
  if (!py) GTEST_SKIP() << "no Python with tensorboard (set GAU_TEST_PYTHON) to read the run back";
  auto [rc, out] = test::run_command(*py + " " + test::reference_path("tfevents_check.py").string() + " restart " +
                                     dir.path().string());
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace gau::trainers
