// Synthetic tasks: every example's answers are right (the copy, the sorted symbols, each
// query's value), only answer positions carry targets through the loader, and the examples are
// a function of (seed, split, index).
#include "trainers/data/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "tests/support/checks.h"
#include "tests/trainers/data/data_test_util.h"
#include "trainers/data/loader.h"

namespace gau::data {
namespace {

using gau::test::error_of;
using test::expect_has;

std::vector<uint8_t> answer_flags(const Corpus& c, int64_t begin, int64_t end) {
  std::vector<uint8_t> out;
  for (int64_t p = begin; p < end; ++p) out.push_back(c.is_answer(p));
  return out;
}

// Checks one example against its task's definition; returns its answer flags as they must be.
std::vector<uint8_t> check_example(const SyntheticTask& t, const std::vector<int32_t>& x) {
  const int32_t sep = kSyntheticSeparator;
  for (int32_t v : x) EXPECT_TRUE(v >= 1 && v < t.vocab_size) << "never padding, always in the vocabulary";
  std::vector<uint8_t> want(x.size(), 0);
  if (t.kind == SyntheticKind::associative_recall) {
    const int64_t p = t.pairs;
    EXPECT_EQ(x[2 * p], sep);
    std::map<int32_t, int32_t> value;
    for (int64_t i = 0; i < p; ++i) {
      EXPECT_NE(x[2 * i], sep);
      EXPECT_TRUE(value.emplace(x[2 * i], x[2 * i + 1]).second) << "keys are distinct";
    }
    std::vector<int32_t> asked;
    for (int64_t q = 0; q < t.queries; ++q) {
      const int32_t key = x[2 * p + 1 + 2 * q], answer = x[2 * p + 2 + 2 * q];
      EXPECT_TRUE(value.count(key)) << "a query asks a key of the example";
      EXPECT_EQ(answer, value.count(key) ? value[key] : -1);
      asked.push_back(key);
      want[2 * p + 2 + 2 * q] = 1;
    }
    std::sort(asked.begin(), asked.end());
    EXPECT_EQ(std::adjacent_find(asked.begin(), asked.end()), asked.end()) << "queries are distinct";
    return want;
  }
  const int64_t n = t.length;
  EXPECT_EQ(x[n], sep);
  std::vector<int32_t> input(x.begin(), x.begin() + n), output(x.begin() + n + 1, x.end());
  if (t.kind == SyntheticKind::sorting) std::sort(input.begin(), input.end());
  EXPECT_EQ(output, input);
  std::fill(want.begin() + n + 1, want.end(), 1);
  return want;
}

std::vector<SyntheticTask> tasks() {
  SyntheticTask copy{.kind = SyntheticKind::copy, .vocab_size = 12, .length = 6};
  SyntheticTask sorting{.kind = SyntheticKind::sorting, .vocab_size = 9, .length = 10};
  SyntheticTask recall{.kind = SyntheticKind::associative_recall, .vocab_size = 20, .pairs = 7, .queries = 3};
  SyntheticTask full{.kind = SyntheticKind::associative_recall, .vocab_size = 6, .pairs = 4, .queries = 4};
  return {copy, sorting, recall, full};
}

TEST(Synthetic, AnswersAreCorrectAndMarked) {
  for (const SyntheticTask& t : tasks()) {
    const Corpus c = make_synthetic(t, 200, 5, 0);
    ASSERT_EQ(c.num_documents(), 200);
    ASSERT_EQ(c.size(), 200 * t.example_length());
    for (int64_t d = 0; d < 200; ++d) {
      const int64_t b = c.document_begin(d), e = c.document_end(d);
      ASSERT_EQ(e - b, t.example_length());
      const std::vector<uint8_t> want = check_example(t, c.tokens(b, e - b));
      EXPECT_EQ(answer_flags(c, b, e), want) << synthetic_name(t.kind) << " example " << d;
    }
  }
}

TEST(Synthetic, OnlyAnswerPositionsCarryTargets) {
  for (const SyntheticTask& t : tasks()) {
    const Corpus c = make_synthetic(t, 30, 5, 0);
    LoaderOptions o;
    o.seq_len = t.example_length() + 3;  // one example per row, padded
    o.batch_size = 5;
    o.packing = false;
    Loader loader(c, o);
    for (int s = 0; s < 6; ++s) {
      const Batch b = loader.next();
      const int64_t n = o.seq_len;
      const int64_t* ids = b.ids.data<int64_t>();
      const int64_t* targets = b.targets.data<int64_t>();
      int64_t answers = 0;
      for (int64_t r = 0; r < 5; ++r) {
        std::vector<int32_t> x(ids + r * n, ids + r * n + t.example_length());
        const std::vector<uint8_t> want = check_example(t, x);
        for (int64_t j = 0; j < n; ++j) {
          const bool answer_next = j + 1 < t.example_length() && want[j + 1];
          EXPECT_EQ(targets[r * n + j], answer_next ? ids[r * n + j + 1] : o.ignore_index)
              << synthetic_name(t.kind) << " row " << r << " position " << j;
          answers += answer_next;
        }
      }
      EXPECT_EQ(b.num_targets, answers);
      EXPECT_EQ(b.key_lengths.data<int64_t>()[0], t.example_length());
    }
  }
}

TEST(Synthetic, ExamplesAreAFunctionOfSeedSplitAndIndex) {
  const SyntheticTask t = tasks()[2];
  const Corpus a = make_synthetic(t, 40, 5, 0), longer = make_synthetic(t, 80, 5, 0);
  EXPECT_EQ(a.tokens(0, a.size()), longer.tokens(0, a.size())) << "more examples extend, never change, the first";
  EXPECT_NE(make_synthetic(t, 40, 6, 0).tokens(0, a.size()), a.tokens(0, a.size()));
  EXPECT_NE(make_synthetic(t, 40, 5, 1).tokens(0, a.size()), a.tokens(0, a.size()));
  EXPECT_EQ(make_synthetic(t, 40, 5, 1).describe(), "synthetic associative_recall (validation)");
}

TEST(Synthetic, ImpossibleTasksAreErrors) {
  SyntheticTask t{.kind = SyntheticKind::associative_recall, .vocab_size = 6, .pairs = 5};
  expect_has(error_of([&] { make_synthetic(t, 1, 1, 0); }),
             "5 pairs need as many distinct keys, but vocab_size 6 gives 4 symbols");
  t.pairs = 2, t.queries = 3;
  expect_has(error_of([&] { make_synthetic(t, 1, 1, 0); }), "queries 3 must be in [1, pairs = 2]");
  t = {.kind = SyntheticKind::copy, .vocab_size = 3};
  expect_has(error_of([&] { make_synthetic(t, 1, 1, 0); }), "vocab_size 3 leaves fewer than 2 symbols");
  expect_has(error_of([&] { synthetic_kind("reverse"); }), "unknown synthetic task 'reverse'");
}

}  // namespace
}  // namespace gau::data
