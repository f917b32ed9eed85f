#include "trainers/data/synthetic.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "trainers/data/random.h"

namespace gau::data {

int64_t SyntheticTask::example_length() const {
  if (kind == SyntheticKind::associative_recall) return 2 * pairs + 1 + 2 * queries;
  return 2 * length + 1;
}

SyntheticKind synthetic_kind(const std::string& name) {
  if (name == "copy") return SyntheticKind::copy;
  if (name == "associative_recall") return SyntheticKind::associative_recall;
  if (name == "sorting") return SyntheticKind::sorting;
  GAU_FAIL("unknown synthetic task '", name, "'; expected copy, associative_recall or sorting");
}

std::string synthetic_name(SyntheticKind kind) {
  switch (kind) {
    case SyntheticKind::copy:
      return "copy";
    case SyntheticKind::associative_recall:
      return "associative_recall";
    case SyntheticKind::sorting:
      return "sorting";
  }
  return "?";
}

void check_synthetic_task(const SyntheticTask& t) {
  GAU_CHECK(t.vocab_size >= kSyntheticFirstSymbol + 2, "synthetic ", synthetic_name(t.kind), ": vocab_size ",
            t.vocab_size, " leaves fewer than 2 symbols after padding and separator (need >= 4)");
  if (t.kind == SyntheticKind::associative_recall) {
    GAU_CHECK(t.pairs >= 1 && t.pairs <= t.symbols(), "synthetic associative_recall: ", t.pairs,
              " pairs need as many distinct keys, but vocab_size ", t.vocab_size, " gives ", t.symbols(),
              " symbols (pairs must be in [1, vocab_size - 2])");
    GAU_CHECK(t.queries >= 1 && t.queries <= t.pairs, "synthetic associative_recall: queries ", t.queries,
              " must be in [1, pairs = ", t.pairs, "] (each query asks a distinct key)");
  } else {
    GAU_CHECK(t.length >= 1, "synthetic ", synthetic_name(t.kind), ": length must be >= 1, got ", t.length);
  }
}

namespace {

// The first k of a seeded shuffle of 0..n-1: k distinct draws.
std::vector<int64_t> distinct(DrawStream& draw, int64_t n, int64_t k) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  for (int64_t i = 0; i < k; ++i) std::swap(v[i], v[i + static_cast<int64_t>(draw.below(n - i))]);
  v.resize(static_cast<size_t>(k));
  return v;
}

void append_example(const SyntheticTask& t, DrawStream& draw, std::vector<int32_t>& tok, std::vector<uint8_t>& ans) {
  auto push = [&](int64_t id, bool answer) {
    tok.push_back(static_cast<int32_t>(id));
    ans.push_back(answer ? 1 : 0);
  };
  auto symbol = [&] { return kSyntheticFirstSymbol + static_cast<int64_t>(draw.below(t.symbols())); };
  if (t.kind == SyntheticKind::associative_recall) {
    const std::vector<int64_t> keys = distinct(draw, t.symbols(), t.pairs);
    std::vector<int64_t> values(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      values[i] = symbol();
      push(kSyntheticFirstSymbol + keys[i], false);
      push(values[i], false);
    }
    push(kSyntheticSeparator, false);
    for (int64_t q : distinct(draw, t.pairs, t.queries)) {
      push(kSyntheticFirstSymbol + keys[q], false);
      push(values[q], true);
    }
    return;
  }
  std::vector<int64_t> s(static_cast<size_t>(t.length));
  for (int64_t& x : s) x = symbol();
  for (int64_t x : s) push(x, false);
  push(kSyntheticSeparator, false);
  if (t.kind == SyntheticKind::sorting) std::sort(s.begin(), s.end());
  for (int64_t x : s) push(x, true);
}

}  // namespace

Corpus make_synthetic(const SyntheticTask& task, int64_t examples, uint64_t seed, int64_t split) {
  check_synthetic_task(task);
  GAU_CHECK(examples >= 0 && split >= 0 && split < 2, "make_synthetic: examples ", examples, ", split ", split);
  const int64_t len = task.example_length();
  std::vector<int32_t> tokens;
  std::vector<uint8_t> answers;
  std::vector<int64_t> starts;
  tokens.reserve(static_cast<size_t>(examples * len));
  answers.reserve(tokens.capacity());
  for (int64_t e = 0; e < examples; ++e) {
    starts.push_back(static_cast<int64_t>(tokens.size()));
    DrawStream draw(seed, kSyntheticStream + (static_cast<uint64_t>(split) << 40) + static_cast<uint64_t>(e));
    append_example(task, draw, tokens, answers);
  }
  const std::string name = "synthetic " + synthetic_name(task.kind) + (split == 0 ? " (train)" : " (validation)");
  auto source = std::make_shared<TokenVector>(std::move(tokens), name);
  return Corpus({source}, std::move(starts), std::move(answers));
}

}  // namespace gau::data
