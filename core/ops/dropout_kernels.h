#pragma once
// Backend dropout of core/ops/dropout.h, in gau::ops::cpu (cpu/dropout.cpp) and gau::ops::cuda
// (cuda/dropout.cu). Arguments are validated by dropout.cpp.
#include <cstdint>

#include "core/ops/backend.h"
#include "core/tensor.h"

GAU_BACKEND_KERNELS(
    // x [numel] contiguous, 0 < p < 1 -> y [numel]: kept elements scaled by 1 / (1 - p), others 0.
    Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset);)
