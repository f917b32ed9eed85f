#pragma once
// One attention problem as the CPU tile loops see it: raw pointers into contiguous compute-type
// (f32 or f64) tensors, per-batch-row valid lengths and scales, and the relative bias expanded
// per offset (O(n_q + n_k), never n_q x n_k). The tile helpers are shared by forward and backward.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "layers/attention/attention_backend.h"

namespace gau::attention::detail::cpu {

// Tile sizes (queries x keys). 128 x 256 amortises OpenBLAS's operand packing over larger tile
// products (measured: 64 x 128 ran the f32 forward ~10% and the backward ~25% slower at n = 2048,
// d = 64); an S tile is 128 KiB in f32, a constant per thread whatever n is.
constexpr int64_t kTileQ = 128;
constexpr int64_t kTileK = 256;

template <typename T>
struct TileProblem {
  int64_t b = 0, h = 0, n_q = 0, n_k = 0, s = 0, e = 0;
  int64_t causal_shift = 0;  // n_k - n_q: query i sits at position i + causal_shift (mask and bias)
  Kernel kernel = Kernel::softmax;
  bool causal = false;
  const T* q = nullptr;  // [b, h, n_q, s]
  const T* k = nullptr;  // [b, h, n_k, s]
  const T* v = nullptr;  // [b, h, n_k, e]
  std::vector<int64_t> key_end;  // [b] keys j >= key_end[b] are padding (key_lengths, or n_k)
  std::vector<T> scale;          // [b] multiplies q k^T, per batch row (row_scale.h)
  const bool* key_mask = nullptr;  // [b, n_k] or null
  // [n_q + n_k - 1]: bias of (i, j) at i - j + n_k - 1, or null; it holds the table entry of the
  // relative position i + causal_shift - j, so the tile loops index by raw i - j.
  const T* bias_rel = nullptr;
  float dropout_p = 0;
  T dropout_scale = 1;  // 1 / (1 - p)
  uint64_t seed = 0, offset = 0;

  // Last key (exclusive) that any query in [i0, i0 + rows) may see in batch row bb.
  int64_t key_limit(int64_t bb, int64_t i0, int64_t rows) const {
    int64_t end = key_end[bb];
    if (causal) end = std::min(end, std::max<int64_t>(i0 + rows + causal_shift, 0));
    return end;
  }
  // First query that key j0 is visible to.
  int64_t first_query(int64_t j0) const { return causal ? std::max<int64_t>(j0 - causal_shift, 0) : 0; }
};

// Builds the problem from contiguous compute-type tensors. bias_rel_storage receives the expanded
// bias (a gau Tensor, so allocator stats count it).
template <typename T>
TileProblem<T> make_tile_problem(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt,
                                 Tensor& bias_rel_storage);

// S [rows, cols] (leading dim cols) = scale_b q_i k_j^T + bias(i - j), masked entries = -inf.
// Queries i0.., keys j0.., of head bh.
template <typename T>
void score_tile(const TileProblem<T>& p, int64_t bh, int64_t i0, int64_t rows, int64_t j0, int64_t cols, T* S);

// F [rows, cols] = 1 / (1 - p) where the weight is kept, 0 where dropped (Philox, regenerated).
template <typename T>
void dropout_tile(const TileProblem<T>& p, int64_t bh, int64_t i0, int64_t rows, int64_t j0, int64_t cols, T* F);

// d_bias of the table from per-offset sums d_rel [n_q + n_k - 1] (index i - j + n_k - 1, relative
// position i + n_k - n_q - j, as bias_rel).
void reduce_bias_grad(const RelativeBias& bias, const double* d_rel, int64_t n_q, int64_t n_k, const Tensor& d_table);

// Number of OpenMP threads the tile loops will use (the size of the per-thread workspaces).
int tile_threads();

}  // namespace gau::attention::detail::cpu
