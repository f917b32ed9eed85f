#include "trainers/data/windows.h"

#include <algorithm>

#include "core/error.h"

namespace gau::data {

Windows::Windows(const Corpus& corpus, int64_t seq_len, bool packing, bool next_token_targets)
    : seq_len_(seq_len), total_(corpus.size()), packing_(packing), next_token_targets_(next_token_targets) {
  GAU_CHECK(seq_len >= 1, "Windows: seq_len must be >= 1, got ", seq_len);
  if (packing) return;
  for (int64_t d = 0; d < corpus.num_documents(); ++d)
    for (int64_t b = corpus.document_begin(d), e = corpus.document_end(d); b < e; b += seq_len)
      if (!next_token_targets || e - b > 1) list_.push_back({b, std::min(seq_len, e - b)});
}

int64_t Windows::size() const {
  if (!packing_) return static_cast<int64_t>(list_.size());
  // The windows that start before the stream's last token (with next-token targets), or at any token.
  const int64_t starts = next_token_targets_ ? std::max<int64_t>(total_ - 1, 0) : total_;
  return (starts + seq_len_ - 1) / seq_len_;
}

Window Windows::operator[](int64_t i) const {
  if (!packing_) return list_[static_cast<size_t>(i)];
  const int64_t b = i * seq_len_;
  return {b, std::min(seq_len_, total_ - b)};
}

int64_t fill_row(const Corpus& corpus, Window w, int64_t n, const RowRule& rule, std::vector<int32_t>& scratch,
                 int64_t* ids, int64_t* targets) {
  GAU_CHECK(w.length >= 1 && w.length <= n && w.begin >= 0 && w.begin + w.length <= corpus.size(), "fill_row: window [",
            w.begin, ", ", w.begin + w.length, ") does not fit rows of ", n, " in a corpus of ", corpus.size(),
            " tokens");
  // One token past the window, when there is one, is the last position's target.
  const int64_t count = std::min(w.length + 1, corpus.size() - w.begin);
  scratch.resize(static_cast<size_t>(count));
  corpus.read(w.begin, count, scratch.data());
  const bool within_document = !rule.packing || rule.mask_across_documents;
  int64_t doc = corpus.document_of(w.begin);
  int64_t doc_end = corpus.document_end(doc);
  int64_t num_targets = 0;
  for (int64_t j = 0; j < w.length; ++j) {
    const int64_t p = w.begin + j;
    while (p >= doc_end) doc_end = corpus.document_end(++doc);
    const int64_t limit = within_document ? doc_end : corpus.size();
    ids[j] = scratch[j];
    const bool has_target = p + 1 < limit && corpus.is_answer(p + 1);
    targets[j] = has_target ? scratch[j + 1] : rule.ignore_index;
    num_targets += has_target;
  }
  std::fill(ids + w.length, ids + n, rule.pad_id);
  std::fill(targets + w.length, targets + n, rule.ignore_index);
  return num_targets;
}

}  // namespace gau::data
