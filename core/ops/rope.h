#pragma once
// Rotary position embedding (Su et al. 2021, RoFormer) in the "rotate_half" pairing of GPT-NeoX
// and of LLaMA in Hugging Face transformers: feature i is rotated together with feature i + r/2
// (not with its neighbour 2i + 1 as in the paper and in Meta's LLaMA code). With r = rot_dim <= s,
// h = r / 2, theta_i = base^(-2i / r) and the angle a = p theta_i of position p:
//   y_i     = x_i cos(a) - x_{i+h} sin(a)        i in [0, h)
//   y_{i+h} = x_{i+h} cos(a) + x_i sin(a)
//   y_j     = x_j                                j in [r, s)   (partial rotary)
//   torch:  y[..., :r] = x[..., :r] * cos + rotate_half(x[..., :r]) * sin
// The backward is the inverse rotation (angle -a): d_x = rope(d_y) with sin negated.
//
// The table caches cos and sin per position: table [n_max, r], row p = [cos(p theta_0), ..,
// cos(p theta_{h-1}), sin(p theta_0), .., sin(p theta_{h-1})], computed in double, stored as f32
// or f64. x [..., n, s]: the token at index t along dim -2 is at position position_offset + t
// (incremental decoding passes the number of tokens already cached).
#include <cstdint>

#include "core/tensor.h"

namespace gau::ops {

// Positions 0 .. n_max - 1, rot_dim even and > 0, base > 0; dtype f32 or f64.
Tensor rope_table(int64_t n_max, int64_t rot_dim, double base = 10000, DType dtype = DType::f32,
                  Device device = Device::cpu());

// x [..., n, s] (s even, s >= r), table [n_max, r] with position_offset + n <= n_max -> [..., n, s]
Tensor rope(const Tensor& x, const Tensor& table, int64_t position_offset = 0);
// d_y [..., n, s] -> d_x [..., n, s], the inverse rotation.
Tensor rope_backward(const Tensor& d_y, const Tensor& table, int64_t position_offset = 0);

}  // namespace gau::ops
