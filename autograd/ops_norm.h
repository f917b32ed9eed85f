#pragma once
// Differentiable layer-level ops over fused kernels: norms (core/ops/norm.h), dropout
// (core/ops/dropout.h) and rotary position embedding (core/ops/rope.h). The math is in those
// headers; each backward here is one fused kernel call.
//
//   layer_norm, rms_norm: saves x, weight and the per-row mean / rstd; backward gives d_x, d_weight, d_bias
//   scale_norm:           saves x, g and rstd; d_g = sum of d_y xhat over every element
//   dropout:              saves nothing but (p, seed, offset); backward regenerates the mask
//   rope:                 saves nothing but the table; backward is the inverse rotation
#include <cstdint>

#include "core/tensor.h"

namespace gau {

// x [..., d], weight [d] or undefined, bias [d] or undefined -> [..., d]
Tensor layer_norm(const Tensor& x, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), double eps = 1e-5);
// x [..., d], weight [d] or undefined -> [..., d]
Tensor rms_norm(const Tensor& x, const Tensor& weight = Tensor(), double eps = 1e-6);
// x [..., d], g [] or [1] -> [..., d]
Tensor scale_norm(const Tensor& x, const Tensor& g, double eps = 1e-5);

// x [...] -> [...]: the mask of (seed, offset), scaled by 1 / (1 - p); p = 0 returns x itself
// (evaluation: call it with p = 0). Draw (seed, offset) from a Generator with
// offset = gen.advance(x.numel()) so that two dropouts never share mask bits.
Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset);

// x [..., n, s], table [n_max, r] from ops::rope_table -> [..., n, s]; the token at index t of
// dim -2 is at position position_offset + t.
Tensor rope(const Tensor& x, const Tensor& table, int64_t position_offset = 0);

}  // namespace gau
