#pragma once
// Counter-based draws for the data pipeline. Draw i of the stream (seed, stream) is a pure
// function of those three numbers (Philox4x32-10, core/rng.h), so an epoch's shuffle or a
// synthetic example is regenerated from (seed, epoch) or (seed, example) with no stored state,
// in any order and on any thread, which is what makes a loader position resumable.
#include <cstdint>

#include "core/rng.h"

namespace gau::data {

class DrawStream {
 public:
  DrawStream(uint64_t seed, uint64_t stream) : seed_(seed), stream_(stream) {}

  uint64_t next_u64() {
    const Philox4 r = philox4x32_10(seed_, next_++, stream_);
    return (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
  }
  // Uniform in [0, n) for n >= 1. The modulo bias is below n / 2^64, far under any count a
  // shuffle or a synthetic task draws.
  uint64_t below(uint64_t n) { return next_u64() % n; }

 private:
  uint64_t seed_;
  uint64_t stream_;
  uint64_t next_ = 0;
};

// Stream ids, one range per use, so that no two uses of one seed share draws.
inline constexpr uint64_t kShuffleStream = uint64_t{1} << 60;    // + epoch
inline constexpr uint64_t kSyntheticStream = uint64_t{2} << 60;  // + (split << 40) + example

}  // namespace gau::data
