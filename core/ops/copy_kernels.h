#pragma once
// Backend copies and fills of core/ops/copy.h and factory.h, in gau::ops::cpu (cpu/copy.cpp) and
// gau::ops::cuda (cuda/copy.cu). Inputs arrive validated, with src already expanded to dst's shape.
#include <cstdint>

#include "core/ops/backend.h"
#include "core/tensor.h"

GAU_BACKEND_KERNELS(
    // dst = src converted to dst's dtype (bf16/f16 round to nearest even, the same on both backends).
    // CPU: both on the host. CUDA: either side may be on the host; device-to-device copies across GPUs
    // stage a contiguous copy and use a peer copy on dst's current stream; copies to the host return
    // once the data is there.
    void copy_(const Tensor& dst, const Tensor& src); void fill_(const Tensor& dst, double value);
    // Element i (row-major index into dst) = low + (high - low) * philox_uniform(seed, offset, i).
    void fill_uniform_(const Tensor& dst, double low, double high, uint64_t seed, uint64_t offset);
    // Element i = mean + std * philox_normal(seed, offset, i) (core/rng.h).
    void fill_normal_(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset);)
