#pragma once
// GAU: one Gated Attention Unit, the FLASH-Quad layer (docs/model.md, "GAU"; Hua et al. 2022).
//
//   h       = norm(x)                                  x [b, n, d]
//   [u|v|z] = h W_inᵀ + b_in                           ONE GEMM d -> 2e + s, three views
//   u, v, z = silu(u), silu(v), silu(z)                u, v [b, n, e]; z [b, n, s]
//   q, k    = z γ_0 + β_0,  z γ_1 + β_1                two scale-offsets of the shared z
//   q, k    = rope(q), rope(k)                         (position: rope), or a relative bias r(i - j)
//   a       = Σ_j relu(q_i k_jᵀ · scale + r(i - j))² v_j     tiled, never an n x n matrix
//   y       = x + dropout((u ⊙ a) W_outᵀ + b_out)
//
//   PyTorch (seed 002, no positions): v, u = silu(linear(h, W_h)).chunk(2); z = silu(linear(h, W_qk));
//   a = relu(q @ k.T / n) ** 2 @ v;  y = linear(u * a, W_out) + x
//
// scale (config `scale`): inv_n divides by n: the configured max_length when set (fixed, whatever
// the input); else the row's own length, which is the input's n, or its valid tokens with padding
// (SequenceInfo::key_lengths; attention's scale_by_valid_length). inv_sqrt_s is 1/sqrt(s),
// inv_n_sqrt_s both. softmax_plus (GAU-α, Su 2022) is softmax(S · log(n) / log(softmax_plus_base)),
// n as inv_n's: the scores sharpen as n grows, so a row's attention entropy does not rise with its
// length. Decoding needs the scale of the whole sequence, so inv_n and softmax_plus decode only
// with max_length set.
//
// Config: {type: gau, dim: 512, e: 1024, s: 128, norm: scale_norm, norm_eps: 1e-5,
//          position: rope | relative | none, relative_kind: t5 | per_offset (with the keys of
//          relative_position_bias, init_std as relative_init_std), max_length: 512,
//          scale: inv_n | inv_sqrt_s | inv_n_sqrt_s, kernel: relu2 | softmax | softmax_plus | laplace,
//          softmax_plus_base: 512 (with softmax_plus only),
//          causal: false, dropout: 0, attention_dropout: 0, checkpoint: false}
// e defaults to 2·dim. checkpoint runs the block under gau::checkpoint: backward recomputes it
// and only x is kept per layer.
#include <cstdint>
#include <memory>
#include <string>

#include "layers/attention/attention.h"
#include "layers/block.h"
#include "layers/config_reader.h"
#include "layers/gated_input.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "layers/positions.h"

namespace gau::layers {

enum class GauScale { inv_n, inv_sqrt_s, inv_n_sqrt_s };

struct GauOptions : GatedBlockOptions {
  RelativeBiasOptions relative;  // position = relative: per-offset (|i - j| <= max_offset) or T5 buckets
  GauScale scale = GauScale::inv_n;
  attention::Kernel kernel = attention::Kernel::relu2;
  // kernel softmax_plus (GAU-α): the softmax kernel with its scale times log(n) / log(base), n as
  // inv_n takes it (max_length when set, else the row's valid tokens). 0 = off.
  double softmax_plus_base = 0;
  double attention_dropout = 0;  // on the attention weights
};

class Gau : public SequenceBlock {
 public:
  explicit Gau(const GauOptions& options);

  Tensor forward_sequence(const Tensor& x, const SequenceInfo& info) override;
  int64_t width() const override { return opt_.dim; }
  bool is_causal() const override { return opt_.causal; }
  std::unique_ptr<DecodeCache> start_decoding(int64_t batch, int64_t max_length) const override;
  Tensor decode(const Tensor& x, DecodeCache& cache) override;

  const GauOptions& options() const { return opt_; }
  int64_t e() const { return e_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const Gau& m, uint64_t seed);  // [2, 6, dim]

 private:
  // Scale and bias options for a pass whose full length is n.
  attention::AttentionOptions attention_options(int64_t n, const SequenceInfo& info) const;
  // q, k, v [b, n, .] -> the attention's a [b, n, e].
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const attention::AttentionOptions& a) const;
  Tensor block(const Tensor& x, const SequenceInfo& info, uint64_t seed, uint64_t offset);

  GauOptions opt_;
  int64_t e_;
  GatedInput input_;  // norm, w_in, heads (q, k), rope
  std::shared_ptr<RelativePositionBias> bias_;
  std::shared_ptr<Linear> w_out_;
};

}  // namespace gau::layers
