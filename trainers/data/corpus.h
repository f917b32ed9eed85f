#pragma once
// Corpus: a token stream with document boundaries, the one thing the loader reads.
//
// Its tokens are the concatenation of one or more TokenSources; documents are given by their
// start positions (ascending, the first is 0), so a document may span sources or a source hold
// many documents. A synthetic task also marks its answer positions: only they carry a target.
// slice() views a range without copying tokens; a cut inside a document starts a new one there,
// which is how a one-document corpus (the Jargon File) is split into training and validation.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trainers/data/token_source.h"

namespace gau::data {

class Corpus {
 public:
  Corpus() = default;
  // `doc_starts`: ascending positions in [0, total size), the first 0 (an empty list for an empty
  // corpus). `answers`, when given, has one flag per token: 1 where the token is to be predicted.
  Corpus(std::vector<std::shared_ptr<const TokenSource>> sources, std::vector<int64_t> doc_starts,
         std::vector<uint8_t> answers = {});

  int64_t size() const { return end_ - begin_; }
  bool empty() const { return size() == 0; }
  int64_t num_documents() const { return static_cast<int64_t>(doc_starts_.size()); }
  int64_t document_begin(int64_t d) const { return doc_starts_[d]; }
  int64_t document_end(int64_t d) const { return d + 1 < num_documents() ? doc_starts_[d + 1] : size(); }
  // The document holding position pos (0 <= pos < size()).
  int64_t document_of(int64_t pos) const;
  const std::vector<int64_t>& document_starts() const { return doc_starts_; }

  // Copies tokens [begin, begin + count) into out.
  void read(int64_t begin, int64_t count, int32_t* out) const;
  std::vector<int32_t> tokens(int64_t begin, int64_t count) const;
  // Whether position pos may carry a target: always, unless the corpus marks answers.
  bool has_answers() const { return store_ && !store_->answers.empty(); }
  bool is_answer(int64_t pos) const { return !has_answers() || store_->answers[begin_ + pos] != 0; }

  // Positions [begin, end) as a corpus of their own.
  Corpus slice(int64_t begin, int64_t end) const;
  // Where the tokens come from, for messages: "jargon.txt.gz" or "3 files under data/".
  std::string describe() const;

 private:
  struct Store {
    std::vector<std::shared_ptr<const TokenSource>> sources;
    std::vector<int64_t> source_begins;  // global position of each source's first token
    std::vector<uint8_t> answers;
    int64_t size = 0;
  };
  std::shared_ptr<const Store> store_;
  int64_t begin_ = 0, end_ = 0;      // the view, in store positions
  std::vector<int64_t> doc_starts_;  // in view positions
};

}  // namespace gau::data
