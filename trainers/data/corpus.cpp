#include "trainers/data/corpus.h"

#include <algorithm>

#include "core/error.h"

namespace gau::data {

Corpus::Corpus(std::vector<std::shared_ptr<const TokenSource>> sources, std::vector<int64_t> doc_starts,
               std::vector<uint8_t> answers) {
  auto store = std::make_shared<Store>();
  for (auto& s : sources) {
    GAU_CHECK(s != nullptr, "Corpus: null token source");
    store->source_begins.push_back(store->size);
    store->size += s->size();
  }
  store->sources = std::move(sources);
  GAU_CHECK(answers.empty() || static_cast<int64_t>(answers.size()) == store->size, "Corpus: ", answers.size(),
            " answer flags for ", store->size, " tokens");
  store->answers = std::move(answers);
  GAU_CHECK(store->size == 0 ? doc_starts.empty() : !doc_starts.empty() && doc_starts.front() == 0,
            "Corpus: document starts must begin at 0 (and be empty only for an empty corpus); ", doc_starts.size(),
            " starts for ", store->size, " tokens");
  for (size_t i = 1; i < doc_starts.size(); ++i)
    GAU_CHECK(doc_starts[i] > doc_starts[i - 1] && doc_starts[i] < store->size, "Corpus: document start ", i, " is ",
              doc_starts[i], "; starts must ascend strictly within [0, ", store->size, ")");
  end_ = store->size;
  store_ = std::move(store);
  doc_starts_ = std::move(doc_starts);
}

int64_t Corpus::document_of(int64_t pos) const {
  GAU_CHECK(pos >= 0 && pos < size(), "Corpus::document_of: position ", pos, " outside [0, ", size(), ")");
  return std::upper_bound(doc_starts_.begin(), doc_starts_.end(), pos) - doc_starts_.begin() - 1;
}

void Corpus::read(int64_t begin, int64_t count, int32_t* out) const {
  GAU_CHECK(begin >= 0 && count >= 0 && begin + count <= size(), describe(), ": read of tokens [", begin, ", ",
            begin + count, ") outside [0, ", size(), ")");
  if (count == 0) return;
  int64_t pos = begin_ + begin;
  const int64_t stop = pos + count;
  const std::vector<int64_t>& starts = store_->source_begins;
  size_t s = std::upper_bound(starts.begin(), starts.end(), pos) - starts.begin();
  while (pos < stop) {
    const TokenSource& src = *store_->sources[s - 1];
    const int64_t local = pos - starts[s - 1];
    const int64_t n = std::min(stop - pos, src.size() - local);
    src.read(local, n, out);
    out += n;
    pos += n;
    ++s;
  }
}

std::vector<int32_t> Corpus::tokens(int64_t begin, int64_t count) const {
  std::vector<int32_t> out(static_cast<size_t>(count));
  read(begin, count, out.data());
  return out;
}

Corpus Corpus::slice(int64_t begin, int64_t end) const {
  GAU_CHECK(0 <= begin && begin <= end && end <= size(), describe(), ": slice [", begin, ", ", end, ") outside [0, ",
            size(), ")");
  Corpus out;
  out.store_ = store_;
  out.begin_ = begin_ + begin;
  out.end_ = begin_ + end;
  if (begin == end) return out;
  out.doc_starts_.push_back(0);
  for (int64_t d = document_of(begin) + 1; d < num_documents() && doc_starts_[d] < end; ++d)
    out.doc_starts_.push_back(doc_starts_[d] - begin);
  return out;
}

std::string Corpus::describe() const {
  if (!store_ || store_->sources.empty()) return "an empty corpus";
  const auto& sources = store_->sources;
  if (sources.size() == 1) return sources.front()->name();
  return sources.front()->name() + " and " + std::to_string(sources.size() - 1) + " more";
}

}  // namespace gau::data
