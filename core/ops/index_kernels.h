#pragma once
// Backend gather/scatter of core/ops/index.h, in gau::ops::cpu (cpu/index.cpp) and gau::ops::cuda
// (cuda/index.cu). Shapes and dtypes are validated by index.cpp; index values are checked by the
// backend (they live in the data), and an out-of-range one is an error naming it.
#include "core/ops/backend.h"
#include "core/tensor.h"

GAU_BACKEND_KERNELS(
    // weight [V, d], ids [...] (i32/i64) -> [..., d]
    Tensor embedding(const Tensor& weight, const Tensor& ids);
    // d_y [..., d], ids [...] -> [V, d] with out[ids[i]] += d_y[i]. CPU: summed per row in index
    // order, so bitwise deterministic. CUDA: f32/f64 atomics; bf16/f16 accumulate in f32.
    Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings);
    // out [V, ...] += src [n, ...] at rows index [n]
    void index_add_(const Tensor& out, const Tensor& index, const Tensor& src);
    // x [N, C], index [N] -> [N] with out[i] = x[i, index[i]]
    Tensor gather_rows(const Tensor& x, const Tensor& index);)
