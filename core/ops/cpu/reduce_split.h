#pragma once
// Views a contiguous tensor as [outer, n, inner] around one dim: the layout every CPU kernel that
// works "along a dim" (reductions, scans, softmax) iterates, so the dim needs no transpose.
#include <algorithm>
#include <cstdint>

#include "core/ops/cpu/parallel.h"  // kParallelMin, used by every kernel on a DimSplit
#include "core/shape.h"

namespace gau::ops::cpu {

struct DimSplit {
  int64_t outer = 1;  // product of the sizes before the dim
  int64_t n = 1;      // size of the dim
  int64_t inner = 1;  // product of the sizes after the dim
};

// `dim` must already be wrapped into [0, rank); a scalar is [1, 1, 1].
inline DimSplit split_at(const Shape& shape, int64_t dim) {
  DimSplit s;
  if (shape.empty()) return s;
  for (int64_t i = 0; i < dim; ++i) s.outer *= shape[i];
  s.n = shape[dim];
  for (size_t i = dim + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

// Width of the inner-dim tiles kernels keep in registers/stack when inner > 1.
constexpr int64_t kInnerTile = 256;

// Runs body(o, i0, width) over tiles of the [outer, inner] positions around the dim, in parallel
// for large work; each call owns `width` independent rows of length n at stride `inner`. With
// inner == 1 (the dim is the last one) every call is one contiguous row.
template <typename Body>
void for_each_tile(const DimSplit& s, Body body) {
  const int64_t tiles = (s.inner + kInnerTile - 1) / kInnerTile;
#pragma omp parallel for schedule(static) if (s.outer * s.n * s.inner >= kParallelMin)
  for (int64_t w = 0; w < s.outer * tiles; ++w) {
    const int64_t o = w / tiles, i0 = (w % tiles) * kInnerTile;
    body(o, i0, std::min(kInnerTile, s.inner - i0));
  }
}

}  // namespace gau::ops::cpu
