#pragma once
// FLASH: the mixed-chunk layer, linear in n (docs/model.md, "FLASH"; Hua et al. 2022).
//
//   h = norm(x);  [u|v|z] = h W_inᵀ + b_in;  u, v, z = silu(·)        u, v [b, n, e]; z [b, n, s]
//   qq, kq, ql, kl = z γ_i + β_i  (four scale-offsets),  rope on each (position: rope)
//   a = flash_attention(qq, kq, ql, kl, v)     relu² inside chunks of c + linear attention across
//   y = x + dropout((u ⊙ a) W_outᵀ + b_out)
//
// Chunks: n need not be a multiple of c, and c > n is allowed: the attention op pads to whole
// chunks, which is exactly the definition (local scores / c, the linear normalisers), and is what
// decoding computes for the first c tokens. c is clamped to max_length when that is set (the
// longest sequence the model takes; options().chunk is the clamped value), never to the input's
// n: that would make the function depend on the input's length (scores / n for short inputs) and
// disagree with decoding.
//
// position: rope rotates all four heads; relative adds a learned per-offset bias inside each
// chunk ([2c - 1] entries); none.
//
// Config: {type: flash, dim: 512, e: 1024, s: 128, chunk: 256, linear_norm: chunk | n | prefix,
//          norm: scale_norm, norm_eps: 1e-5, position: rope | relative | none, max_length: 512,
//          causal: false, dropout: 0, checkpoint: false}
#include <cstdint>
#include <memory>

#include "layers/attention/flash.h"
#include "layers/block.h"
#include "layers/config_reader.h"
#include "layers/gated_input.h"
#include "layers/gau.h"
#include "layers/linear.h"

namespace gau::layers {

struct FlashBlockOptions : GatedBlockOptions {  // position: none, rope or relative
  int64_t chunk = 256;
  attention::LinearNorm linear_norm = attention::LinearNorm::chunk;
};

class FlashBlock : public SequenceBlock {
 public:
  explicit FlashBlock(const FlashBlockOptions& options);

  Tensor forward_sequence(const Tensor& x, const SequenceInfo& info) override;
  int64_t width() const override { return opt_.dim; }
  bool is_causal() const override { return opt_.causal; }
  std::unique_ptr<DecodeCache> start_decoding(int64_t batch, int64_t max_length) const override;
  Tensor decode(const Tensor& x, DecodeCache& cache) override;

  const FlashBlockOptions& options() const { return opt_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const FlashBlock& m, uint64_t seed);  // [2, 7, dim]

 private:
  attention::FlashOptions flash_options(const SequenceInfo& info) const;
  Tensor block(const Tensor& x, const SequenceInfo& info, uint64_t seed, uint64_t offset);

  FlashBlockOptions opt_;
  int64_t e_;
  GatedInput input_;  // norm, w_in, heads (qq, kq, ql, kl), rope
  Tensor bias_;       // [2c - 1] with position: relative
  std::shared_ptr<Linear> w_out_;
};

}  // namespace gau::layers
