#pragma once
// CUDA copies and fills. Called by core/ops/copy.cpp and factory.cpp when a tensor is on a GPU;
// inputs arrive validated, with src already expanded to dst's shape.
#include <cstdint>

#include "core/tensor.h"

namespace gau::ops::cuda {

// dst = src converted to dst's dtype (bf16/f16 round to nearest even, as on the CPU). Either side
// may be on the host; device-to-device copies across GPUs stage a contiguous copy and use a peer
// copy on dst's current stream. Copies to the host return once the data is there.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, double value);
// Element i (row-major index into dst) = low + (high - low) * philox_uniform(seed, offset, i):
// the same numbers as the CPU backend's fill_uniform_.
void fill_uniform_(const Tensor& dst, double low, double high, uint64_t seed, uint64_t offset);
// Element i = mean + std * z_i with z_i = philox_normal(seed, offset, i) from core/rng.h, as on the CPU.
void fill_normal_(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset);

}  // namespace gau::ops::cuda
