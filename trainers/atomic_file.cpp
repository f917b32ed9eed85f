#include "trainers/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"
#include "trainers/crc32c.h"

namespace gau::trainers {

namespace fs = std::filesystem;

namespace {

WriteHook& write_hook() {
  static WriteHook hook;
  return hook;
}

// Chunks of at most this size, so that the fault hook sees a large tensor being written in parts.
constexpr size_t kChunk = size_t{1} << 20;

}  // namespace

void set_write_hook(WriteHook hook) { write_hook() = std::move(hook); }

AtomicFile::AtomicFile(fs::path path) : path_(std::move(path)) {
  std::string name = ".";  // built in steps: GCC 12 warns (-Wrestrict, falsely) on "." + string
  name += path_.filename().string();
  name += ".tmp-" + std::to_string(::getpid());
  temp_ = path_.parent_path() / name;
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  GAU_CHECK(fd_ >= 0, "cannot create ", temp_.string(), " (to write ", path_.string(), "): ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  GAU_CHECK(fd_ >= 0, "AtomicFile::write: ", path_.string(), " was already committed");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    if (write_hook()) write_hook()(path_, size_);
    size_t chunk = n < kChunk ? n : kChunk;
    ssize_t got = ::write(fd_, p, chunk);
    if (got < 0 && errno == EINTR) continue;
    GAU_CHECK(got > 0, "cannot write ", temp_.string(), " (for ", path_.string(), ") after ", size_,
              " bytes: ", got < 0 ? std::strerror(errno) : "no progress");
    crc_ = crc32c_update(crc_, p, static_cast<size_t>(got));
    size_ += static_cast<uint64_t>(got);
    p += got;
    n -= static_cast<size_t>(got);
  }
}

void AtomicFile::commit() {
  GAU_CHECK(fd_ >= 0, "AtomicFile::commit: ", path_.string(), " was already committed");
  GAU_CHECK(::fsync(fd_) == 0, "fsync of ", temp_.string(), " failed: ", std::strerror(errno));
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 || ::rename(temp_.c_str(), path_.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(temp_.c_str());
    GAU_FAIL("cannot move ", temp_.string(), " to ", path_.string(), ": ", why);
  }
  fsync_dir(path_.parent_path());
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

void write_fully(int fd, const void* data, size_t n, const fs::path& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t got = ::write(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    GAU_CHECK(got > 0, "cannot write ", path.string(), ": ", got < 0 ? std::strerror(errno) : "no progress");
    p += got;
    n -= static_cast<size_t>(got);
  }
}

void fsync_dir(const fs::path& dir) {
  const fs::path d = dir.empty() ? fs::path(".") : dir;
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  GAU_CHECK(fd >= 0, "cannot open directory ", d.string(), " to fsync it: ", std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  GAU_CHECK(rc == 0, "fsync of directory ", d.string(), " failed: ", std::strerror(err));
}

}  // namespace gau::trainers
