// TensorBoard event files: gau's bytes against a file written by the tensorboard package's own
// protos and RecordWriter (tests/reference/tfevents_check.py), EventAccumulator reading gau's
// file when that Python is present, and the framing's CRCs.
#include "trainers/tfevents.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/support/files.h"
#include "trainers/crc32c.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;

// tfevents_check.py's FILE_VERSION_TIME and REFERENCE.
constexpr double kFileVersionTime = 1700000000.5;
struct Scalar {
  double wall;
  int64_t step;
  const char* tag;
  float value;
};
const Scalar kReference[] = {
    {1700000001.25, 0, "train/loss", 5.5f},
    {1700000001.25, 0, "train/lr", 0.0f},
    {1700000002.5, 1, "train/loss", 4.75f},
    {1700000002.5, 1, "train/lr", 0.000244140625f},
    {1700000003.0, 2, "train/loss", 3.125f},
    {1700000004.0, 2, "eval/val/loss", -1.5f},
    {1700000005.0, int64_t{1} << 40, "train/tokens_per_s", 65536.0f},
};

// tfevents_check.py's RESTART: a resumed run's SessionLog START, past every step.
constexpr int64_t kRestartStep = (int64_t{1} << 40) + 1;
constexpr double kRestartTime = 1700000006.0;

void write_reference(const fs::path& path) {
  EventFileWriter w(path, kFileVersionTime);
  for (const Scalar& s : kReference) w.add_scalar(s.tag, s.value, s.step, s.wall);
  w.add_session_start(kRestartStep, kRestartTime);
}

uint64_t le(const std::string& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

TEST(TfEvents, WritesTheBytesTensorBoardWrites) {
  test::TempDir dir;
  const fs::path path = dir.path() / "events.out.tfevents.test";
  write_reference(path);
  EXPECT_EQ(test::read_bytes(path), test::read_bytes(test::reference_path("fixtures/tfevents_golden")))
      << "gau's event file differs from the one tensorboard's RecordWriter wrote (tests/reference/tfevents_check.py)";
}

TEST(TfEvents, EventAccumulatorReadsGausFile) {
  auto py = test::python_with({"tensorboard"});
  if (!py) GTEST_SKIP() << "no Python with tensorboard (set GAU_TEST_PYTHON)";
  test::TempDir dir;
  const fs::path path = dir.path() / "events.out.tfevents.1.test";
  write_reference(path);
  auto [rc, out] =
      test::run_command(*py + " " + test::reference_path("tfevents_check.py").string() + " check " + path.string());
  EXPECT_EQ(rc, 0) << out;
}

TEST(TfEvents, RecordsAreFramedWithMaskedCrcs) {
  const std::string data = encode_scalar_event(12.5, 3, "a", 1.0f);
  const std::string r = tfrecord(data);
  ASSERT_EQ(r.size(), 8 + 4 + data.size() + 4);
  EXPECT_EQ(le(r, 0, 8), data.size());
  EXPECT_EQ(le(r, 8, 4), crc32c_masked(crc32c(r.data(), 8)));
  EXPECT_EQ(r.substr(12, data.size()), data);
  EXPECT_EQ(le(r, 12 + data.size(), 4), crc32c_masked(crc32c(data.data(), data.size())));
}

TEST(TfEvents, ScalarEventEncoding) {
  // Event{wall_time: 2.0 (field 1, fixed64), step: 300 (field 2, varint AC 02),
  //       summary (field 5) {value (1) {tag (1) "x", simple_value (2, fixed32) 1.0f}}}
  const std::string want(
      "\x09\x00\x00\x00\x00\x00\x00\x00\x40\x10\xac\x02\x2a\x0a\x0a\x08\x0a\x01x\x15\x00\x00\x80\x3f", 24);
  EXPECT_EQ(encode_scalar_event(2.0, 300, "x", 1.0f), want);
  // proto3 leaves out a zero wall_time and step.
  EXPECT_EQ(encode_scalar_event(0.0, 0, "x", 1.0f), want.substr(12));
  EXPECT_EQ(encode_file_version_event(0.0), std::string("\x1a\x0d") + "brain.Event:2");
}

TEST(TfEvents, SessionStartEventEncoding) {
  // Event{wall_time: 2.0, step: 300, session_log (field 7) {status (1, varint) START = 1}}
  const std::string want("\x09\x00\x00\x00\x00\x00\x00\x00\x40\x10\xac\x02\x3a\x02\x08\x01", 16);
  EXPECT_EQ(encode_session_start_event(2.0, 300), want);
}

TEST(TfEvents, DefaultNameHasTimeAndHost) {
  test::TempDir dir;
  EventFileWriter w(dir.path());
  const std::string name = w.path().filename().string();
  EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
  EXPECT_TRUE(fs::exists(w.path()));
  const std::string bytes = test::read_bytes(w.path());
  ASSERT_GE(bytes.size(), 16u);
  EXPECT_NE(bytes.find("brain.Event:2"), std::string::npos);
}

}  // namespace
}  // namespace gau::trainers
