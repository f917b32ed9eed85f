#pragma once
// Scalar math every attention backend must compute identically (attention_backend.h, "Shared
// math"): relative-bias indices, the dropout keep test and the Laplace kernel. GAU_HD so a CUDA
// kernel can include this header and agree with the CPU bit for bit on indices and masks.
#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "core/ops/scalar_math.h"
#include "core/rng.h"

namespace gau::attention::detail {

// T5 bucket of rel = query position - key position (attention.h, "Positions"), as in Raffel et al.
// 2020 / HF T5Attention:
// bidirectional tables give keys after the query (rel < 0) the upper half of the buckets; half of
// each half is exact offsets, the rest logarithmic up to max_distance. The log is taken in float.
GAU_HD int64_t t5_bucket(int64_t rel, int64_t num_buckets, int64_t max_distance, bool bidirectional) {
  int64_t bucket = 0;
  int64_t n = rel;
  if (bidirectional) {
    num_buckets /= 2;
    if (n < 0) bucket += num_buckets;
    n = n < 0 ? -n : n;
  } else {
    n = n > 0 ? n : 0;
  }
  const int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return bucket + n;
  int64_t large = max_exact + static_cast<int64_t>(logf(static_cast<float>(n) / static_cast<float>(max_exact)) /
                                                   logf(static_cast<float>(max_distance) / static_cast<float>(max_exact)) *
                                                   static_cast<float>(num_buckets - max_exact));
  return bucket + (large < num_buckets - 1 ? large : num_buckets - 1);
}

// per_offset: clamp(rel, -max_offset, max_offset) + max_offset, rel as for t5_bucket.
GAU_HD int64_t offset_bias_index(int64_t rel, int64_t max_offset) {
  rel = rel < -max_offset ? -max_offset : rel;
  rel = rel > max_offset ? max_offset : rel;
  return rel + max_offset;
}

// The dropout keep test of weight (bh, i, j), element index = (bh * n_q + i) * n_k + j, and the
// Laplace kernel with its derivative: the shared formulas of core/ops/scalar_math.h.
using ops::math::dropout_keep;
using ops::math::laplace;
using ops::math::laplace_grad;

}  // namespace gau::attention::detail
