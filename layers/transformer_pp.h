#pragma once
// TransformerPP: one pre-norm block of the Transformer++ baseline (docs/model.md, "Softmax
// attention"), the SequenceBlock a language model stacks.
//
//   x [b, n, d] -> [b, n, d]
//   h = x + dropout(MHA(RMSNorm(x)))            MultiHeadAttention (fused QKV, RoPE, softmax)
//   y = h + dropout(SwiGLU(RMSNorm(h)))         FeedForward (d -> 2·hidden fused, silu(a) ⊙ b, -> d)
//   PyTorch: h = x + attn(rms1(x)); y = h + ffn(rms2(h))
//
// Decoding runs the same two residual steps on the new tokens, the attention against the MHA's
// KV cache (the block's DecodeCache is that KvCache).
//
// Config: {type: transformer_pp, dim: 512, heads: 8, hidden: 1368, eps: 1e-5, position: rope,
//          causal: true, backend: gau, max_length: 2048, rope_base: 10000, dropout: 0.0,
//          bias: false, init: uniform, init_std: 0.02}
//   hidden defaults to 8d/3 rounded up to a multiple of 8; the attention keys are those of
//   multi_head_attention (layers/mha.h); dropout is the residual dropout of both branches.
#include <cstdint>
#include <memory>

#include "layers/block.h"
#include "layers/config_reader.h"
#include "layers/dropout.h"
#include "layers/ffn.h"
#include "layers/mha.h"
#include "layers/norm.h"

namespace gau::layers {

struct TransformerPPOptions {
  MhaOptions attention;  // dim, heads, positions, causal, backend, dropout, linear options
  int64_t hidden = 0;    // SwiGLU hidden width; 0: default_ffn_hidden(swiglu, dim)
  double eps = 1e-5;     // RMSNorm
};

class TransformerPP : public SequenceBlock {
 public:
  explicit TransformerPP(const TransformerPPOptions& options);

  Tensor forward_sequence(const Tensor& x, const SequenceInfo& info) override;  // x [b, n, d]
  int64_t width() const override { return options_.attention.dim; }
  bool is_causal() const override { return options_.attention.causal; }
  std::unique_ptr<DecodeCache> start_decoding(int64_t batch, int64_t max_length) const override;
  Tensor decode(const Tensor& x, DecodeCache& cache) override;  // x [b, m, d]

  const MultiHeadAttention& attention() const { return *attn_; }
  const FeedForward& ffn() const { return *ffn_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const TransformerPP& m, uint64_t seed);  // [2, 5, d]

 private:
  void check_input(const Tensor& x) const;

  TransformerPPOptions options_;
  std::shared_ptr<RMSNorm> attn_norm_;
  std::shared_ptr<MultiHeadAttention> attn_;
  std::shared_ptr<RMSNorm> ffn_norm_;
  std::shared_ptr<FeedForward> ffn_;
  std::shared_ptr<Dropout> ffn_dropout_;
};

}  // namespace gau::layers
