#pragma once
#include "core/tensor.h"

namespace gau::ops::cpu {

// dst = src (src already expanded to dst's shape), with dtype conversion; both on the host.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, double value);
// Uniform [low, high) / Normal(mean, std) from the Philox stream (seed, offset), element i of the
// contiguous dst taking draw i.
void fill_uniform_(const Tensor& dst, double low, double high, uint64_t seed, uint64_t offset);
void fill_normal_(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset);

}  // namespace gau::ops::cpu
