#include "trainers/data/token_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace gau::data {

static_assert(std::endian::native == std::endian::little, "token files are little-endian; gau reads them in place");

void TokenVector::read(int64_t begin, int64_t count, int32_t* out) const {
  GAU_CHECK(begin >= 0 && count >= 0 && begin + count <= size(), name_, ": read of tokens [", begin, ", ",
            begin + count, ") outside [0, ", size(), ")");
  std::copy_n(tokens_.data() + begin, count, out);
}

namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

MappedTokenFile::MappedTokenFile(const std::string& path, TokenFileFormat format, int64_t vocab_size) : path_(path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  GAU_CHECK(f.fd >= 0, path, ": cannot open token file: ", std::strerror(errno));
  struct stat st {};
  GAU_CHECK(::fstat(f.fd, &st) == 0, path, ": cannot stat: ", std::strerror(errno));
  bytes_ = static_cast<size_t>(st.st_size);
  const char* kind = format == TokenFileFormat::nanogpt ? "nanoGPT" : "llm.c";
  GAU_CHECK(bytes_ > 0, path, ": empty ", kind, " token file (0 bytes)");
  map_ = ::mmap(nullptr, bytes_, PROT_READ, MAP_PRIVATE, f.fd, 0);
  GAU_CHECK(map_ != MAP_FAILED, path, ": cannot mmap ", bytes_, " bytes: ", std::strerror(errno));
  try {
    const auto size = static_cast<int64_t>(bytes_);
    if (format == TokenFileFormat::nanogpt) {
      GAU_CHECK(size % 2 == 0, path, ": a nanoGPT token file holds uint16 tokens, so its size must be a multiple of 2 ",
                "bytes; it is ", size, " bytes");
      width_ = 2;
      count_ = size / 2;
    } else {
      const int64_t header_bytes = kLlmcHeaderInts * 4;
      GAU_CHECK(size >= header_bytes, path, ": an llm.c token file starts with a ", header_bytes,
                "-byte header (256 int32); the file is only ", size, " bytes");
      int32_t header[3];
      std::memcpy(header, map_, sizeof(header));
      if (header[0] == kLlmcMagicU16) {
        GAU_CHECK(header[1] == kLlmcVersionU16, path, ": llm.c header (byte 4): version ", header[1], " with magic ",
                  kLlmcMagicU16, "; expected version ", kLlmcVersionU16, " (uint16 tokens)");
        width_ = 2;
      } else if (header[0] == kLlmcMagicU32) {
        GAU_CHECK(header[1] == kLlmcVersionU32, path, ": llm.c header (byte 4): version ", header[1], " with magic ",
                  kLlmcMagicU32, "; expected version ", kLlmcVersionU32, " (uint32 tokens)");
        width_ = 4;
      } else {
        GAU_FAIL(path, ": bad llm.c magic ", header[0], " at byte 0; expected ", kLlmcMagicU16, " (uint16 tokens) or ",
                 kLlmcMagicU32, " (uint32 tokens)");
      }
      const int64_t payload = size - header_bytes;
      GAU_CHECK(payload % width_ == 0, path, ": llm.c tokens are ", width_, " bytes wide, but the ", payload,
                " bytes after the header are not a multiple of ", width_);
      GAU_CHECK(header[2] >= 0 && header[2] == payload / width_, path, ": llm.c header (byte 8) says ", header[2],
                " tokens, but the file holds ", payload / width_, " (", payload, " bytes after the header)");
      offset_ = header_bytes;
      count_ = header[2];
    }
    // A file of llm.c's layout read as raw uint16 would train on its header as tokens (when the
    // vocabulary is large enough to take them): its magic and version together are refused.
    int32_t first[2] = {0, 0};
    if (size >= 8) std::memcpy(first, map_, sizeof(first));
    const bool llmc_header = format == TokenFileFormat::nanogpt &&
                             ((first[0] == kLlmcMagicU16 && first[1] == kLlmcVersionU16) ||
                              (first[0] == kLlmcMagicU32 && first[1] == kLlmcVersionU32));
    GAU_CHECK(!llmc_header, path, ": the file starts with llm.c's header (magic ", first[0], ", version ", first[1],
              "), which data.format: nanogpt would read as tokens; set data.format: llmc");
    for (int64_t i = 0; i < count_; ++i) {
      const int32_t t = token(i);
      GAU_CHECK(t >= 0 && t < vocab_size, path, ": token ", i, " (byte offset ", offset_ + i * width_, ") is ",
                static_cast<uint32_t>(t), ", not below the vocabulary size ", vocab_size);
    }
  } catch (...) {
    ::munmap(map_, bytes_);
    throw;
  }
}

MappedTokenFile::~MappedTokenFile() { ::munmap(map_, bytes_); }

int32_t MappedTokenFile::token(int64_t i) const {
  const char* p = static_cast<const char*>(map_) + offset_ + i * width_;
  if (width_ == 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  uint32_t v;
  std::memcpy(&v, p, 4);
  return static_cast<int32_t>(v);  // ids >= 2^31 were rejected at open as >= vocab_size
}

void MappedTokenFile::read(int64_t begin, int64_t count, int32_t* out) const {
  GAU_CHECK(begin >= 0 && count >= 0 && begin + count <= count_, path_, ": read of tokens [", begin, ", ",
            begin + count, ") outside [0, ", count_, ")");
  for (int64_t i = 0; i < count; ++i) out[i] = token(begin + i);
}

}  // namespace gau::data
