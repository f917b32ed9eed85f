#pragma once
// Crash-safe file replacement. The bytes go to a temporary file beside the target, which is
// fsync'd, renamed over the target and followed by an fsync of the directory, so that after a
// crash at any point the target holds either its old content or all of the new one.
//
//   AtomicFile f(dir / "model.safetensors");
//   f.write(header.data(), header.size());
//   f.commit();            // without commit(), the destructor removes the temporary file
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace gau::trainers {

class AtomicFile {
 public:
  // Creates "<dir>/.<name>.tmp-<pid>" for `path`; the directory must exist.
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Bytes written so far, and their CRC-32C (checkpoints record both).
  uint64_t size() const { return size_; }
  uint32_t crc32c() const { return crc_; }
  // fsync, rename over the target, fsync the directory. Errors name the file and the call.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  std::filesystem::path path_, temp_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint32_t crc_ = 0;
};

// Writes `content` to `path` through an AtomicFile.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
// write(2) until all `n` bytes are written (retrying short writes and EINTR); errors name `path`.
void write_fully(int fd, const void* data, size_t n, const std::filesystem::path& path);
// fsync of a directory, so that a rename or a new entry in it survives a crash.
void fsync_dir(const std::filesystem::path& dir);

// Fault injection for the crash tests: when set, AtomicFile::write calls it before each chunk
// with the target path and the bytes written so far; the hook may throw or kill the process.
// Process-wide; pass nullptr to clear.
using WriteHook = std::function<void(const std::filesystem::path& target, uint64_t written)>;
void set_write_hook(WriteHook hook);

}  // namespace gau::trainers
