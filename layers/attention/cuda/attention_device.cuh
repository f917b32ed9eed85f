#pragma once
// Device helpers shared by the attention kernels: tile loads, the score-tile mask, the relative
// bias, dropout and the three attention kernels with their derivatives.
//
// Tiles: 64 queries x 64 keys, 4 warps; warp w owns tile rows 16w..16w+15 in every GEMM whose
// rows are queries, so per-row work (online softmax) stays inside one warp. Products use the
// WMMA API (m16n16k16, bf16/f16 in, f32 accumulate).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <cstdint>

#include "core/ops/scalar_math.h"
#include "core/rng.h"
#include "layers/attention/cuda/attention_kernels.h"

namespace gau::attention::detail::cuda_impl {

namespace wmma = nvcuda::wmma;

constexpr int kTile = 64;     // queries per tile and keys per tile
constexpr int kThreads = 128; // 4 warps
constexpr int kWarps = kThreads / 32;
constexpr int kKernelSoftmax = 0, kKernelRelu2 = 1, kKernelLaplace = 2;

template <typename T>
using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major>;
template <typename T>
using FragAT = wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::col_major>;  // A read transposed
template <typename T>
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major>;
template <typename T>
using FragBT = wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major>;  // B read transposed
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_f32(__half x) { return __half2float(x); }
template <typename T>
__device__ __forceinline__ T from_f32(float x);
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__device__ __forceinline__ __half from_f32<__half>(float x) {
  return __float2half_rn(x);
}

// Shared-memory row strides, padded by 16 bytes against bank conflicts; WMMA needs ld to be a
// multiple of 8 (16-bit) or 4 (f32) elements and every fragment pointer 32-byte aligned, which
// these strides keep for fragment rows that are multiples of 16.
constexpr int ld16(int cols) { return cols + 8; }
constexpr int ld32(int cols) { return cols + 4; }
constexpr size_t align128(size_t bytes) { return (bytes + 127) / 128 * 128; }

// smem[r][c] = g[row0 + r][col0 + c] for a ROWS x COLS tile of a row-major [n_rows, width]
// matrix; zero outside it (garbage there would turn 0 * garbage into NaN in the products).
template <typename T, int ROWS, int COLS>
__device__ __forceinline__ void load_tile(T* smem, int ld_s, const T* g, int64_t n_rows, int64_t width, int64_t row0,
                                          int64_t col0, bool vec_ok) {
  constexpr int kChunks = COLS / 8;
  const T zero = from_f32<T>(0.f);
  for (int idx = threadIdx.x; idx < ROWS * kChunks; idx += blockDim.x) {
    const int r = idx / kChunks, c = (idx % kChunks) * 8;
    const int64_t gr = row0 + r, gc = col0 + c;
    T* dst = smem + r * ld_s + c;
    if (vec_ok && gr < n_rows && gc + 8 <= width) {
      *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(g + gr * width + gc);
    } else {
#pragma unroll
      for (int t = 0; t < 8; ++t) dst[t] = (gr < n_rows && gc + t < width) ? g[gr * width + gc + t] : zero;
    }
  }
}

// The visible keys of one batch row: [0, kv_end) before causal masking and key_mask.
struct RowContext {
  int64_t bh, b;
  float scale;
  int64_t kv_end;
};

__device__ __forceinline__ RowContext row_context(const TileParams& p, int64_t bh) {
  RowContext rc;
  rc.bh = bh;
  rc.b = bh / p.h;
  rc.scale = p.row_scale[rc.b];
  const int64_t len = p.kv_len[rc.b];
  rc.kv_end = len < p.n_k ? len : p.n_k;
  return rc;
}

// Whether query i attends to key j.
__device__ __forceinline__ bool visible(const TileParams& p, const RowContext& rc, int64_t i, int64_t j) {
  if (i >= p.n_q || j >= rc.kv_end) return false;
  if (p.causal && j > i + (p.n_k - p.n_q)) return false;
  if (p.key_mask != nullptr && p.key_mask[rc.b * p.n_k + j] == 0) return false;
  return true;
}

// Index into the bias table for query i and key j, given i - j: the relative position is that of
// the query, i + (n_k - n_q), minus j (attention.h), aligned with the causal mask.
__device__ __forceinline__ int bias_index(const TileParams& p, int64_t i_minus_j) {
  const int64_t rel = i_minus_j + (p.n_k - p.n_q);
  const int64_t r = rel < -p.bias_radius ? -p.bias_radius : (rel > p.bias_radius ? p.bias_radius : rel);
  return p.bias_map != nullptr ? p.bias_map[r + p.bias_radius] : static_cast<int>(r + p.bias_radius);
}

// Dropout keep test (attention_backend.h): philox_uniform(seed, offset, (bh n_q + i) n_k + j) >= p.
__device__ __forceinline__ bool dropout_keep(const TileParams& p, int64_t bh, int64_t i, int64_t j) {
  const uint64_t idx = (static_cast<uint64_t>(bh) * p.n_q + i) * p.n_k + j;
  return ops::math::dropout_keep(p.seed, p.offset, idx, p.dropout_p);
}

// Unnormalised kernels: relu2 and laplace (softmax is handled by the callers).
__device__ __forceinline__ float pointwise_kernel(int kernel, float x) {
  if (kernel == kKernelRelu2) {
    const float r = x > 0.f ? x : 0.f;
    return r * r;
  }
  return ops::math::laplace(x);
}
__device__ __forceinline__ float pointwise_kernel_grad(int kernel, float x) {
  if (kernel == kKernelRelu2) return x > 0.f ? 2.f * x : 0.f;
  return ops::math::laplace_grad(x);
}

// Score tile: dst[r][c] = scale * sum_k q_s[r][k] k_s[c][k] for warp `warp`'s 16 rows and all 64
// columns. The scale is applied to the accumulator fragment, as a GEMM's alpha would.
template <typename T, int S>
__device__ __forceinline__ void score_tile(float* dst, int ld_dst, const T* q_s, const T* k_s, int ld_qk, int warp,
                                           float scale) {
#pragma unroll
  for (int nf = 0; nf < kTile / 16; ++nf) {
    FragC acc;
    wmma::fill_fragment(acc, 0.f);
#pragma unroll
    for (int kk = 0; kk < S / 16; ++kk) {
      FragA<T> a;
      FragBT<T> bt;
      wmma::load_matrix_sync(a, q_s + warp * 16 * ld_qk + kk * 16, ld_qk);
      wmma::load_matrix_sync(bt, k_s + nf * 16 * ld_qk + kk * 16, ld_qk);
      wmma::mma_sync(acc, a, bt, acc);
    }
#pragma unroll
    for (int t = 0; t < acc.num_elements; ++t) acc.x[t] *= scale;
    wmma::store_matrix_sync(dst + warp * 16 * ld_dst + nf * 16, acc, ld_dst, wmma::mem_row_major);
  }
}

// Bounds of the work: the key tiles a query tile sees, and the query tiles a key tile is seen by.
__device__ __forceinline__ int64_t key_end_for_query_tile(const TileParams& p, const RowContext& rc, int64_t i0) {
  int64_t end = rc.kv_end;
  if (p.causal) {
    const int64_t last_visible = i0 + kTile - 1 + (p.n_k - p.n_q);  // from the tile's last query
    if (last_visible + 1 < end) end = last_visible + 1;
  }
  return end > 0 ? end : 0;
}
__device__ __forceinline__ int64_t query_begin_for_key_tile(const TileParams& p, int64_t j0) {
  if (!p.causal) return 0;
  const int64_t first = j0 - (p.n_k - p.n_q);  // the first query that sees key j0
  return first > 0 ? first / kTile * kTile : 0;
}

}  // namespace gau::attention::detail::cuda_impl
