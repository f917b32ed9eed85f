#pragma once
// MultiHeadAttention: the softmax attention of the Transformer++ baseline (docs/model.md,
// "Softmax attention"), without residual or norm, over whole sequences or against a KV cache.
//
//   h [b, n, d] -> [b, n, d]                                  heads H, head width s = d / H
//   [q | k | v] = h W_qkv^T + b_qkv        ONE GEMM d -> 3d (FusedLinear "q", "k", "v": W_q and W_k
//                                          stay separate row blocks, never one bilinear form)
//   q, k, v     -> [b, H, n, s]            (per head)
//   q, k        = rope(q), rope(k)         position: rope; or a learned bias r(i - j) (relative)
//   o           = softmax(q k^T / sqrt(s) + r + mask) v     gau::attention::dot_product_attention,
//                                          the 1/sqrt(s) passed as AttentionOptions::scale (folded
//                                          into the q k^T tile GEMM, never applied to n x n scores)
//   y           = dropout(o W_o^T + b_o)   o back to [b, n, d]; dropout only in training
//   PyTorch: F.scaled_dot_product_attention(q, k, v, is_causal=causal) then F.linear(o, W_o, b_o)
//
// Decoding: start_decoding preallocates k and v [b, H, max_length, s]; decode_attention projects
// the m new tokens (RoPE at positions cache.position ..), writes their k and v into the cache and
// attends over the cache's first position + m keys. The attention op aligns the m queries with
// the last m keys, so its causal mask and relative bias are those of the same rows of a full
// pass. Decoding is generation: grad-free and without dropout.
//
// Config: {type: multi_head_attention, dim: 512, heads: 8, position: rope, causal: true,
//          backend: gau, max_length: 2048, rope_base: 10000, dropout: 0.0, bias: false,
//          init: uniform, init_std: 0.02}
//   position: none | rope | relative; relative adds the keys of a relative_position_bias with its
//   kind under relative_kind (t5 | per_offset: max_offset | num_buckets, max_distance,
//   bidirectional (default: not causal)) and its init under relative_init_std (init_std is the
//   projections').
//   backend: gau | cudnn (cuDNN's SDPA graph; CUDA tensors only).
#include <cstdint>
#include <memory>
#include <string>

#include "layers/attention/attention.h"
#include "layers/block.h"
#include "layers/config_reader.h"
#include "layers/dropout.h"
#include "layers/fused_linear.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/positions.h"

namespace gau::layers {

struct MhaOptions {
  int64_t dim = 0;
  int64_t heads = 1;  // must divide dim
  PositionType position = PositionType::rope;
  bool causal = true;
  attention::Backend backend = attention::Backend::gau;
  int64_t max_length = 2048;  // the RoPE table's positions
  double rope_base = 10000;
  RelativeBiasOptions relative;  // position = relative
  double dropout = 0;            // on the output
  LinearOptions linear{.bias = false};
};

// Reads the keys above (the Transformer++ block reads the same ones).
MhaOptions read_mha_options(ConfigReader& r);

// k and v of every cached position, per head.
struct KvCache : DecodeCache {
  Tensor k, v;  // [b, H, max_length, s]
};

class MultiHeadAttention : public Module {
 public:
  explicit MultiHeadAttention(const MhaOptions& options);

  // h [b, n, d] -> [b, n, d]; info.key_lengths marks padding keys.
  Tensor forward_attention(const Tensor& h, const SequenceInfo& info = {});
  Tensor forward(const Tensor& h) override { return forward_attention(h, {}); }

  // A cache for `batch` sequences of up to `max_length` tokens (causal attention only).
  std::unique_ptr<KvCache> start_decoding(int64_t batch, int64_t max_length) const;
  // h [b, m, d] at positions cache.position .. + m - 1 -> [b, m, d]; advances cache.position.
  Tensor decode_attention(const Tensor& h, KvCache& cache);

  const MhaOptions& options() const { return options_; }
  int64_t head_dim() const { return options_.dim / options_.heads; }
  const FusedLinear& qkv() const { return *qkv_; }
  const Linear& out() const { return *out_; }
  // The RoPE or the relative bias module; null when position is something else.
  const RotaryEmbedding* rope() const { return rope_.get(); }
  const RelativePositionBias* relative_bias() const { return relative_.get(); }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const MultiHeadAttention& m, uint64_t seed);  // [2, 5, d]

 private:
  struct Heads {
    Tensor q, k, v;  // [b, H, n, s]
  };
  void check_input(const Tensor& h) const;
  // Projects h [b, n, d] into heads, RoPE at positions position_offset ...
  Heads project(const Tensor& h, int64_t position_offset);
  // q [b, H, n_q, s], k, v [b, H, n_k, s] -> the output projection of the attention, [b, n_q, d].
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_lengths);

  MhaOptions options_;
  std::shared_ptr<FusedLinear> qkv_;
  std::shared_ptr<Linear> out_;
  std::shared_ptr<RotaryEmbedding> rope_;
  std::shared_ptr<RelativePositionBias> relative_;
  std::shared_ptr<Dropout> dropout_;
};

}  // namespace gau::layers
