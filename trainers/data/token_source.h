#pragma once
// Where a corpus's tokens live: in memory (tokenized text, synthetic tasks) or in a memory-mapped
// token file prepared by nanoGPT or llm.c. The loader reads through this interface, so a batch
// copies only the tokens it holds and a 10 GB token file costs no memory up front.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gau::data {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual int64_t size() const = 0;
  // Copies tokens [begin, begin + count) into out; 0 <= begin, begin + count <= size().
  virtual void read(int64_t begin, int64_t count, int32_t* out) const = 0;
  // A file path or a description, for messages.
  virtual std::string name() const = 0;
};

class TokenVector : public TokenSource {
 public:
  TokenVector(std::vector<int32_t> tokens, std::string name) : tokens_(std::move(tokens)), name_(std::move(name)) {}
  int64_t size() const override { return static_cast<int64_t>(tokens_.size()); }
  void read(int64_t begin, int64_t count, int32_t* out) const override;
  std::string name() const override { return name_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }

 private:
  std::vector<int32_t> tokens_;
  std::string name_;
};

// Token file layouts:
//   nanogpt: raw little-endian uint16 tokens, nothing else (nanoGPT's prepare.py: train.bin);
//   llmc:    a header of 256 little-endian int32 (magic, version, token count, zeros), then the
//            tokens: magic 20240520 / version 1 for uint16 tokens (GPT-2), magic 20240801 /
//            version 7 for uint32 tokens (LLaMA-3), as llm.c's dev/data/data_common.py
//            write_datafile() writes them.
enum class TokenFileFormat { nanogpt, llmc };

inline constexpr int32_t kLlmcMagicU16 = 20240520;
inline constexpr int32_t kLlmcVersionU16 = 1;
inline constexpr int32_t kLlmcMagicU32 = 20240801;
inline constexpr int32_t kLlmcVersionU32 = 7;
inline constexpr int64_t kLlmcHeaderInts = 256;

// A read-only mapping of one token file. Opening checks the layout (size a multiple of the token
// width, header magic, version and count) and every token against vocab_size, so a bad file fails
// when the run starts, naming the file and the byte offset, never in the middle of training.
class MappedTokenFile : public TokenSource {
 public:
  MappedTokenFile(const std::string& path, TokenFileFormat format, int64_t vocab_size);
  ~MappedTokenFile() override;
  MappedTokenFile(const MappedTokenFile&) = delete;
  MappedTokenFile& operator=(const MappedTokenFile&) = delete;

  int64_t size() const override { return count_; }
  void read(int64_t begin, int64_t count, int32_t* out) const override;
  std::string name() const override { return path_; }
  int64_t token_width() const { return width_; }   // bytes per token: 2 or 4
  int64_t data_offset() const { return offset_; }  // bytes before the first token

 private:
  int32_t token(int64_t i) const;

  std::string path_;
  void* map_ = nullptr;
  size_t bytes_ = 0;
  int64_t offset_ = 0;
  int64_t width_ = 2;
  int64_t count_ = 0;
};

}  // namespace gau::data
