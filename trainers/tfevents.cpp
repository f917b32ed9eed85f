#include "trainers/tfevents.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "trainers/atomic_file.h"
#include "trainers/crc32c.h"

namespace gau::trainers {

namespace fs = std::filesystem;

namespace {

// Protobuf wire format: a key is (field number << 3 | wire type); varints are little-endian
// base-128; fixed64/fixed32 are little-endian.
enum Wire : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_key(std::string& out, uint32_t field, Wire wire) { put_varint(out, (field << 3) | wire); }
void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_bytes(std::string& out, uint32_t field, std::string_view s) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, s.size());
  out.append(s);
}
void put_double(std::string& out, uint32_t field, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  put_key(out, field, kFixed64);
  put_le(out, bits, 8);
}

// Event fields 1 (wall_time) and 2 (step), which proto3 omits when zero.
std::string event_header(double wall_time, int64_t step) {
  std::string e;
  if (wall_time != 0 || std::signbit(wall_time)) put_double(e, 1, wall_time);
  if (step != 0) {
    put_key(e, 2, kVarint);
    put_varint(e, static_cast<uint64_t>(step));  // negative int64 takes ten bytes, as protobuf's
  }
  return e;
}

}  // namespace

std::string encode_session_start_event(double wall_time, int64_t step) {
  std::string session_log;
  put_key(session_log, 1, kVarint);
  put_varint(session_log, 1);  // SessionLog.START
  std::string e = event_header(wall_time, step);
  put_bytes(e, 7, session_log);
  return e;
}

std::string encode_file_version_event(double wall_time, std::string_view version) {
  std::string e = event_header(wall_time, 0);
  put_bytes(e, 3, version);
  return e;
}

std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value) {
  std::string v;
  put_bytes(v, 1, tag);
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  put_key(v, 2, kFixed32);  // a oneof member: written even when 0
  put_le(v, bits, 4);
  std::string summary;
  put_bytes(summary, 1, v);
  std::string e = event_header(wall_time, step);
  put_bytes(e, 5, summary);
  return e;
}

std::string tfrecord(std::string_view data) {
  std::string r;
  put_le(r, data.size(), 8);
  put_le(r, crc32c_masked(crc32c(r.data(), 8)), 4);
  r.append(data);
  put_le(r, crc32c_masked(crc32c(data.data(), data.size())), 4);
  return r;
}

double unix_time_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

EventFileWriter::EventFileWriter(const fs::path& dir) {
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  const double now = unix_time_now();
  path_ = dir / ("events.out.tfevents." + std::to_string(static_cast<int64_t>(now)) + "." + host);
  open(now);
}

EventFileWriter::EventFileWriter(const fs::path& path, double wall_time) : path_(path) { open(wall_time); }

EventFileWriter::~EventFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void EventFileWriter::open(double wall_time) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  GAU_CHECK(fd_ >= 0, "cannot open TensorBoard event file ", path_.string(), ": ", std::strerror(errno));
  write_record(encode_file_version_event(wall_time));
}

void EventFileWriter::add_scalar(std::string_view tag, float value, int64_t step, double wall_time) {
  write_record(encode_scalar_event(wall_time, step, tag, value));
}

void EventFileWriter::add_session_start(int64_t step, double wall_time) {
  write_record(encode_session_start_event(wall_time, step));
}

void EventFileWriter::write_record(std::string_view data) {
  // One write(2) per record, so that a reader (TensorBoard, tailing the file) never sees half a
  // record unless the process dies inside the call; TensorBoard skips a truncated last record.
  const std::string r = tfrecord(data);
  write_fully(fd_, r.data(), r.size(), path_);
}

}  // namespace gau::trainers
