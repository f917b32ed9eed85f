#pragma once
// How a corpus is cut into the sequences (windows) an epoch is made of, and how one window
// becomes a row of ids and targets.
//
// packing on:  the corpus is one stream cut every seq_len tokens; windows cross documents, and
//              the last one may be short. A target is the next token of the stream (none for
//              the stream's last token); with mask_across_documents, not across a document end.
// packing off: each document is cut every seq_len tokens on its own; windows never cross
//              documents, and a target is the next token within the document only.
// Either way every token is the input of exactly one window, except that with next-token targets
// (a causal LM) a window of one token with no next token (the stream's last, or with packing off
// a document's last) is left out: it would be a row with nothing to predict. A short window is
// padded with pad_id (its target ignore_index) and reported through its length. A corpus that
// marks answers (synthetic tasks) keeps only targets whose token is an answer.
#include <cstdint>
#include <vector>

#include "trainers/data/corpus.h"

namespace gau::data {

struct Window {
  int64_t begin = 0;   // corpus position of the first token
  int64_t length = 0;  // 1..seq_len tokens
};

struct RowRule {
  bool packing = true;
  bool mask_across_documents = false;
  int32_t pad_id = 0;
  int64_t ignore_index = -100;
};

class Windows {
 public:
  // `next_token_targets`: leave out the windows of one token that has no next token.
  Windows(const Corpus& corpus, int64_t seq_len, bool packing, bool next_token_targets);
  int64_t size() const;
  Window operator[](int64_t i) const;
  int64_t seq_len() const { return seq_len_; }

 private:
  int64_t seq_len_;
  int64_t total_;
  bool packing_;
  bool next_token_targets_;
  std::vector<Window> list_;  // packing off
};

// Writes window w as one row of n = seq_len entries: ids[j] and targets[j] for j < w.length,
// padding after. Returns the number of targets that are not ignore_index. `scratch` is reused
// between calls to hold the window's tokens.
int64_t fill_row(const Corpus& corpus, Window w, int64_t n, const RowRule& rule, std::vector<int32_t>& scratch,
                 int64_t* ids, int64_t* targets);

}  // namespace gau::data
