#pragma once
// FLASH mixed chunk attention (docs/model.md, "FLASH: mixed chunk attention"; Hua et al. 2022):
// relu^2 attention inside chunks of c tokens plus a linear attention across chunks, O(n) in n.
//
// The sequence (n tokens, padded internally to G = ceil(n / c) chunks) is split into chunks g:
//
//   local:   quad_g = relu(qq_g kq_g^T / c + r[i - j])^2 v_g        causal: j <= i inside the chunk
//   global, bidirectional:  lin_g = ql_g (sum_h kl_h^T v_h) / L      L = valid keys of the row
//   global, causal:         lin_g = ql_g (sum_{h<g} kl_h^T v_h) / norm_g
//   o = quad + lin
//
// norm_g is FlashOptions::linear_norm:
//   chunk:  c                         (the widely used PyTorch port)
//   n:      max_length (the configured length; the input's n when max_length == 0)
//   prefix: number of valid keys in the chunks before g (= g c without padding); chunk 0 gives 0
// The default is chunk, settled by an ablation (docs/flash_linear_norm.md: tiny causal FLASH LMs,
// 3 seeds): on associative recall across chunks chunk beat prefix by 0.25 nats and n by 0.47 at the
// training length and at 2x, on every seed; on byte-level text all three tied. It is also what the
// widely used PyTorch port does and needs no per-chunk counts. prefix (a mean over the earlier
// tokens, stationary in position) remains the choice to try for lengths far beyond training.
//
// Padding: keys j >= key_lengths[b] (and the internal padding past n) are left out of every sum,
// local and global. Queries are not masked: a padded query still gets an output (the caller
// masks its loss), computed from the valid keys only.
//
// Shapes: qq, kq, ql, kl [b, n, s]; v [b, n, e] -> o [b, n, e]. One dtype (f32, f64, bf16, f16;
// bf16/f16 compute in f32), one device. Differentiable in qq, kq, ql, kl, v and the bias table.
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace gau::attention {

enum class LinearNorm { chunk, n, prefix };
const char* linear_norm_name(LinearNorm norm);
LinearNorm linear_norm_from_name(const std::string& name);  // "chunk" | "n" | "prefix"

struct FlashOptions {
  // c > 0. n need not be a multiple of c: the last chunk is padded to c tokens, and c > n is one
  // padded chunk, the same function as the definition (scores / c, bias over [2c - 1], the linear
  // normalisers), as FlashDecodeState computes for its first c tokens.
  int64_t chunk = 256;
  bool causal = false;
  // Optional per-offset bias inside a chunk: [2c - 1], r[i - j] = bias[i - j + c - 1].
  Tensor bias;
  Tensor key_lengths;  // optional [b] i32/i64 in [0, n]: keys j >= key_lengths[b] are padding
  LinearNorm linear_norm = LinearNorm::chunk;
  int64_t max_length = 0;  // for LinearNorm::n; 0 = the input's n
  // Causal backward: recompute the prefix states with a forward scan (memory O(s e) per thread)
  // instead of keeping the G per-chunk s x e states from the forward pass.
  bool recompute = true;
};

// o [b, n, e] = quad + lin as above.
Tensor flash_attention(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl, const Tensor& v,
                       const FlashOptions& opt = {});

// Token-by-token causal decoding with the same math as flash_attention(causal = true): a running
// s x e sum of the completed chunks, an s x e sum of the current chunk, and the current chunk's
// keys and values. Each step costs O(c (s + e) + s e), whatever the position. Grad-free.
class FlashDecodeState {
 public:
  // opt.causal must be true; key_lengths is not used (every row decodes the same position).
  FlashDecodeState(int64_t batch, int64_t s, int64_t e, const FlashOptions& opt, DType dtype = DType::f32,
                   Device device = Device::cpu());

  // qq, kq, ql, kl [b, s]; v [b, e] for the token at position() -> o [b, e].
  Tensor step(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl, const Tensor& v);
  int64_t position() const { return position_; }
  void reset();

 private:
  FlashOptions opt_;
  int64_t batch_, s_, e_;
  DType dtype_;
  Device device_;
  int64_t position_ = 0;
  Tensor state_;    // [b, s, e] acc dtype: sum over completed chunks of kl^T v
  Tensor pending_;  // [b, s, e] acc dtype: sum over the current chunk's tokens so far
  Tensor kq_;       // [b, c, s] acc dtype: current chunk's local keys
  Tensor v_;        // [b, c, e] acc dtype: current chunk's values
};

}  // namespace gau::attention
