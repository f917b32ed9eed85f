#pragma once
// Synthetic tasks for tests and sanity checks: every example is one document, generated from
// (seed, split, example index) alone, and only its answer positions carry a target, so the loss
// measures the task and nothing else. Ids: 0 padding, 1 separator, symbols 2..vocab_size-1.
//
//   copy                s_1 .. s_L  SEP  s_1 .. s_L                   answers: the copy
//   sorting             s_1 .. s_L  SEP  sort(s_1 .. s_L)             answers: the sorted symbols
//   associative_recall  k_1 v_1 .. k_P v_P  SEP  q_1 a_1 .. q_Q a_Q   answers: a_j, the value of
//                       key q_j; keys distinct, queries distinct keys among them
//
// Symbols are uniform over the alphabet (with repetition, except keys and queries).
#include <cstdint>
#include <string>

#include "trainers/data/corpus.h"

namespace gau::data {

enum class SyntheticKind { copy, associative_recall, sorting };

inline constexpr int32_t kSyntheticPad = 0;
inline constexpr int32_t kSyntheticSeparator = 1;
inline constexpr int32_t kSyntheticFirstSymbol = 2;

struct SyntheticTask {
  SyntheticKind kind = SyntheticKind::associative_recall;
  int64_t vocab_size = 32;  // ids, the two specials included
  int64_t length = 8;       // copy, sorting: symbols per example
  int64_t pairs = 8;        // associative_recall: key-value pairs per example
  int64_t queries = 1;      // associative_recall: keys asked per example

  int64_t symbols() const { return vocab_size - kSyntheticFirstSymbol; }
  int64_t example_length() const;
};

SyntheticKind synthetic_kind(const std::string& name);  // "copy", "associative_recall", "sorting"
std::string synthetic_name(SyntheticKind kind);

// Throws when the task cannot be generated (too few symbols for distinct keys, and so on).
void check_synthetic_task(const SyntheticTask& task);

// `examples` examples of split `split` (0 train, 1 validation: disjoint draw streams).
Corpus make_synthetic(const SyntheticTask& task, int64_t examples, uint64_t seed, int64_t split);

}  // namespace gau::data
