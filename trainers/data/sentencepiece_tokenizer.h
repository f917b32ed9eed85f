#pragma once
// A sentencepiece model (libsentencepiece from Debian), loaded from a file or trained on a corpus
// with the library's own trainer.
//
// Training settings make encode/decode lossless on text whose characters the model covers:
// the identity normalizer (no NFKC), whitespace kept as written (no collapsing, no dummy
// prefix), "\n" as a user-defined piece (the trainer sees lines, so it would never learn one),
// and, by default, byte fallback, so that a character outside the vocabulary becomes its UTF-8
// bytes instead of <unk>. Encoding goes line by line, as the model was trained.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trainers/data/tokenizer.h"

namespace gau::data {

struct SentencePieceTrainOptions {
  int64_t vocab_size = 4000;
  std::string model_type = "unigram";  // unigram, bpe, char or word (sentencepiece's names)
  double character_coverage = 1.0;     // fraction of characters the vocabulary must cover
  bool byte_fallback = true;           // unknown characters as UTF-8 bytes: 256 pieces more
  int64_t max_sentences = 1000000;     // lines sampled for training; 0 = every line
  uint64_t seed = 1;                   // the trainer's sampling seed
};

class SentencePieceTokenizer : public Tokenizer {
 public:
  // Loads `model_path` (a .model file written by sentencepiece).
  explicit SentencePieceTokenizer(const std::string& model_path);
  ~SentencePieceTokenizer() override;

  // Trains on the lines of `documents` and writes `model_path` (and the .vocab beside it). The
  // model is written under a temporary name and renamed, so a crash never leaves a partial model.
  static std::shared_ptr<SentencePieceTokenizer> train(const std::vector<std::string>& documents,
                                                       const SentencePieceTrainOptions& options,
                                                       const std::string& model_path);

  std::vector<int32_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override;
  std::string name() const override { return "sentencepiece(" + path_ + ")"; }
  int32_t eos_id() const override;
  YAML::Node config() const override;
  const std::string& model_path() const { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace gau::data
