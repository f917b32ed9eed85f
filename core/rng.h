#pragma once
// Philox4x32-10 counter-based RNG (Salmon et al., SC'11). The same (seed, counter) gives the same
// numbers on CPU and GPU, so random tensors and dropout masks are reproducible across backends
// and can be regenerated in backward instead of stored.
//
// Element i of a random tensor drawn at generator offset `off` uses
//   philox(seed, counter = off + i / 4)[i % 4]
// and the generator's offset then advances by ceil(numel / 4).
#include <cmath>
#include <cstdint>
#include <mutex>

#include "core/macros.h"

namespace gau {

struct Philox4 {
  uint32_t v[4];
};

GAU_HD Philox4 philox4x32_10(uint64_t seed, uint64_t counter_lo, uint64_t counter_hi = 0) {
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = static_cast<uint32_t>(p1);
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) with 24 random bits.
GAU_HD float uint_to_unit_float(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
// Uniform in (0, 1], safe for log().
GAU_HD float uint_to_open_unit_float(uint32_t x) {
  return (static_cast<float>(x >> 8) + 1.0f) * (1.0f / 16777216.0f);
}

// The i-th uniform number of the stream (seed, offset).
GAU_HD float philox_uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  return uint_to_unit_float(philox4x32_10(seed, offset + i / 4).v[i % 4]);
}

// The i-th standard normal of the stream (seed, offset): Box-Muller on words (0,1) or (2,3) of
// the block; even i takes the cosine branch, odd i the sine branch. Computed in double, so that
// host and device libm differences (an ulp or two of double) vanish when rounded to f32/bf16/f16.
GAU_HD double philox_normal(uint64_t seed, uint64_t offset, uint64_t i) {
  Philox4 block = philox4x32_10(seed, offset + i / 4);
  uint32_t w = static_cast<uint32_t>(i % 4) & ~1u;
  double u1 = static_cast<double>(uint_to_open_unit_float(block.v[w]));
  double u2 = static_cast<double>(uint_to_unit_float(block.v[w + 1]));
  double r = ::sqrt(-2.0 * ::log(u1));  // global libm: gau:: has Tensor overloads of these names
  double theta = 6.283185307179586476925 * u2;
  return (i % 2 == 0) ? r * ::cos(theta) : r * ::sin(theta);
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void manual_seed(uint64_t seed) {
    std::lock_guard<std::mutex> lock(mu_);
    seed_ = seed;
    offset_ = 0;
  }
  // Reserves counters for `numel` draws; returns the offset to draw them from.
  uint64_t advance(uint64_t numel) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t off = offset_;
    offset_ += (numel + 3) / 4;
    return off;
  }

 private:
  std::mutex mu_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// Puts a generator back at its (seed, offset) on destruction, so that work in between which
// draws (a GAU block reserves dropout counters even in eval mode) leaves the generator's stream
// as it was: an evaluation inside a training run does not change the run's dropout masks.
class GeneratorStateGuard {
 public:
  explicit GeneratorStateGuard(Generator& gen) : gen_(gen), seed_(gen.seed()), offset_(gen.offset()) {}
  ~GeneratorStateGuard() {
    gen_.manual_seed(seed_);
    gen_.advance(offset_ * 4);  // advance(n) moves the offset by ceil(n / 4)
  }
  GeneratorStateGuard(const GeneratorStateGuard&) = delete;
  GeneratorStateGuard& operator=(const GeneratorStateGuard&) = delete;

 private:
  Generator& gen_;
  uint64_t seed_, offset_;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace gau
