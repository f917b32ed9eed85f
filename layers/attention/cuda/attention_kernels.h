#pragma once
// Launchers of the CUDA attention kernels (attention_forward.cu, attention_backward.cu), called by
// attention_cuda.cu. Plain pointers and sizes only: tensors are resolved on the host side.
#include <cuda_runtime.h>

#include <cstdint>

namespace gau::attention::detail::cuda_impl {

enum class ElemType { bf16, f16 };

// Everything the kernels need to rebuild one score tile S[i, j] and its mask.
struct TileParams {
  ElemType type = ElemType::bf16;
  int64_t bh = 0, h = 1;          // batch*heads, heads (batch row of bh is bh / h)
  int64_t n_q = 0, n_k = 0;       // query and key lengths
  int64_t s = 0, e = 0;           // shared q/k width, value width
  int kernel = 0;                 // 0 softmax, 1 relu2, 2 laplace
  bool causal = false;            // key j visible from query i iff j <= i + (n_k - n_q)
  const float* row_scale = nullptr;  // [b] scale of q k^T per batch row
  const int* kv_len = nullptr;       // [b] keys j >= kv_len[b] are padding
  const uint8_t* key_mask = nullptr; // [b, n_k] bool or null
  const float* bias_table = nullptr; // relative bias values, or null
  const int* bias_map = nullptr;     // [2 R + 1] rel + R -> table index (T5); null: identity
  int64_t bias_radius = 0;           // R: rel = i + (n_k - n_q) - j is clamped to [-R, R]
  float dropout_p = 0;
  uint64_t seed = 0, offset = 0;
  bool vec_ok = false;               // 16-byte loads allowed (aligned bases, e % 8 == 0)
};

// q [bh, n_q, s], k [bh, n_k, s], v [bh, n_k, e] -> o [bh, n_q, e], lse [bh, n_q] (softmax only).
void launch_forward(const TileParams& p, const void* q, const void* k, const void* v, void* o, float* lse,
                    cudaStream_t stream);

// Per batch row: kv_len = min(lengths[b], n_k) (n_k when lengths is null) and the q k^T scale
// (row_scale.h: 1 / valid keys when by_valid_length, scale · log(valid) / log(base) with a
// log_length_base, counting key_mask when given; `scale` otherwise).
void launch_prepare_rows(const int64_t* lengths, const uint8_t* key_mask, int64_t b, int64_t n_k, double scale,
                         bool by_valid_length, double log_length_base, float* row_scale, int* kv_len,
                         cudaStream_t stream);

// d_q_acc [bh, n_q, s] f32 and d_bias [table] f32 must be zeroed; d_rows [bh, n_q] is workspace.
struct BackwardBuffers {
  const void* o = nullptr;      // [bh, n_q, e]
  const float* lse = nullptr;   // [bh, n_q], softmax only
  const void* d_o = nullptr;    // [bh, n_q, e]
  float* d_rows = nullptr;      // [bh, n_q] rowsum(dO * O), softmax only
  float* d_q_acc = nullptr;     // [bh, n_q, s]
  void* d_q = nullptr;          // [bh, n_q, s]
  void* d_k = nullptr;          // [bh, n_k, s]
  void* d_v = nullptr;          // [bh, n_k, e]
  float* d_bias = nullptr;      // like the bias table, or null
};
void launch_backward(const TileParams& p, const void* q, const void* k, const void* v, const BackwardBuffers& buf,
                     cudaStream_t stream);

}  // namespace gau::attention::detail::cuda_impl
