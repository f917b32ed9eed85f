#pragma once
// Tokenizers turn text into token ids and back.
//
//   ByteTokenizer               ids are the text's bytes: vocabulary 256, lossless, no training;
//   SentencePieceTokenizer      a sentencepiece model, loaded or trained (sentencepiece_tokenizer.h).
//
// config() returns a tokenizer config that rebuilds the same tokenizer ({type: byte} or
// {type: sentencepiece, model: <path>}), for checkpoints and `gau generate`.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gau::data {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  // Throws for an id outside [0, vocab_size()), naming it and its position.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::string name() const = 0;
  // The id that ends a document by default, or -1 when the tokenizer has none.
  virtual int32_t eos_id() const = 0;
  virtual YAML::Node config() const = 0;
};

// Bytes as ids. Byte 0 (NUL, absent from text) is the default end-of-document id.
class ByteTokenizer : public Tokenizer {
 public:
  std::vector<int32_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override { return 256; }
  std::string name() const override { return "byte"; }
  int32_t eos_id() const override { return 0; }
  YAML::Node config() const override;
};

}  // namespace gau::data
