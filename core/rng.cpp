#include "core/rng.h"

#include <cmath>

namespace gau {

float philox_normal_host(uint64_t seed, uint64_t offset, uint64_t i) {
  // Pair (2k, 2k+1) shares two uniform words: element i uses the block of counter offset + i/4
  // and the word pair (i % 4) & ~1.
  Philox4 block = philox4x32_10(seed, offset + i / 4);
  uint32_t w = static_cast<uint32_t>(i % 4) & ~1u;
  float u1 = uint_to_open_unit_float(block.v[w]);
  float u2 = uint_to_unit_float(block.v[w + 1]);
  float r = std::sqrt(-2.0f * std::log(u1));
  float theta = 6.2831853071795864769f * u2;
  return (i % 2 == 0) ? r * std::cos(theta) : r * std::sin(theta);
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace gau
