#pragma once
// Dropout with a counter-based mask: element i (row-major logical index of x) is kept when
//   ops::math::dropout_keep(seed, offset, i, p),   i.e. philox_uniform(seed, offset, i) >= p
// (core/ops/scalar_math.h: the attention kernels' dropout draws its bits the same way), and
//   y_i = keep_i ? x_i / (1 - p) : 0.
// The mask is a function of (seed, offset, i) alone, identical on CPU and CUDA, so backward
// regenerates it: d_x = dropout(d_y, p, seed, offset). The counters used are offset ..
// offset + ceil(numel / 4) - 1, what Generator::advance(numel) reserves.
#include <cstdint>

#include "core/tensor.h"

namespace gau::ops {

// x [...] -> a contiguous [...]; p in [0, 1). p = 0 returns x itself.
//   torch: F.dropout(x, p) (with its own generator)
Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset);

}  // namespace gau::ops
