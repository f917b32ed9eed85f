#pragma once
// Backend RoPE of core/ops/rope.h, in gau::ops::cpu (cpu/rope.cpp) and gau::ops::cuda
// (cuda/rope.cu). Arguments are validated by rope.cpp.
#include <cstdint>

#include "core/ops/backend.h"
#include "core/tensor.h"

GAU_BACKEND_KERNELS(
    // x [rows, s] contiguous, rows = outer * n (row k is token k % n); table [n_max, r] contiguous
    // f32/f64 -> y [rows, s]. inverse: rotate by -angle (the backward).
    Tensor rope(const Tensor& x, const Tensor& table, int64_t n, int64_t position_offset, bool inverse);)
