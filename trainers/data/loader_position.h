#pragma once
// Where a loader is in its data, saved with each checkpoint so that a resumed run reads exactly
// the batches it would have read. The shuffle of epoch e is a pure function of (seed, e)
// (counter-based Philox draws, random.h), so (seed, epoch) is the whole RNG state.
#include <nlohmann/json.hpp>

#include <cstdint>

namespace gau::data {

struct LoaderPosition {
  int64_t epoch = 0;
  int64_t index = 0;        // the next unread slot of the epoch's order (shared by all ranks)
  uint64_t seed = 1;        // the shuffle seed
  int64_t num_windows = 0;  // the sequences per epoch, a check that the data did not change

  bool operator==(const LoaderPosition&) const = default;
};

// {"epoch": 2, "index": 128, "seed": 1, "num_windows": 3326}
void to_json(nlohmann::json& j, const LoaderPosition& p);
// Throws a gau::Error naming the missing or mistyped field.
void from_json(const nlohmann::json& j, LoaderPosition& p);

}  // namespace gau::data
