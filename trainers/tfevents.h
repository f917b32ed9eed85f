#pragma once
// TensorBoard event files, written without a protobuf dependency.
//
// A file is a sequence of TFRecords:
//   uint64 length | uint32 masked CRC-32C of the length | data | uint32 masked CRC-32C of data
// (little-endian), each holding one serialised tensorflow.Event. The first event carries
// file_version "brain.Event:2"; each scalar is
//   Event { double wall_time = 1; int64 step = 2; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// and a restart is  Event { wall_time = 1; step = 2; SessionLog session_log = 7; }
//   SessionLog { SessionStatus status = 1; }  with START = 1.
// TensorBoard drops what the run's files hold at or after a START event's step: a resumed run
// writes one at its first new step, so the steps trained past the checkpoint it resumed from,
// then lost, do not show beside their re-trained selves.
// encoded as proto3 does: fields in number order, zero wall_time and step omitted.
//
//   EventFileWriter tb(run_dir);                  // events.out.tfevents.<time>.<host>
//   tb.add_scalar("train/loss", 2.31f, step);    // written (unbuffered) before it returns
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gau::trainers {

// The serialised Event messages, and their TFRecord framing.
std::string encode_file_version_event(double wall_time, std::string_view version = "brain.Event:2");
std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value);
std::string encode_session_start_event(double wall_time, int64_t step);
std::string tfrecord(std::string_view data);

// Seconds since the Unix epoch, as TensorBoard's wall_time.
double unix_time_now();

class EventFileWriter {
 public:
  // A new file <dir>/events.out.tfevents.<unix seconds>.<hostname> (appended to if that exists).
  explicit EventFileWriter(const std::filesystem::path& dir);
  // Exactly `path`, its file_version event stamped `wall_time`: for reproducible files.
  EventFileWriter(const std::filesystem::path& path, double wall_time);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void add_scalar(std::string_view tag, float value, int64_t step, double wall_time);
  void add_scalar(std::string_view tag, float value, int64_t step) { add_scalar(tag, value, step, unix_time_now()); }
  // A restart at `step`: what the files hold from `step` on is no longer the run's.
  void add_session_start(int64_t step, double wall_time);
  void add_session_start(int64_t step) { add_session_start(step, unix_time_now()); }
  const std::filesystem::path& path() const { return path_; }

 private:
  void open(double wall_time);
  void write_record(std::string_view data);
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace gau::trainers
