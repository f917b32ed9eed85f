#pragma once
// The halves shared by GAU and FLASH (docs/model.md). The front: norm, the fused d -> 2e + s
// projection, SiLU, and h scale-offsets of the shared z (GAU: q, k; FLASH: qq, kq, ql, kl), with
// RoPE applied to every head when positions are rotary.
//
//   h = norm(x);  [u|v|z] = h W_inᵀ + b_in;  u, v, z = silu(·);  head_i = z γ_i + β_i;  rope(head_i)
//
// The back: y = x + dropout((u ⊙ a) W_outᵀ + b_out).
//
// GatedInput is not a Module of its own: it registers norm, w_in, the scale-offsets and rope into the block that
// owns it, so the parameter names stay "blocks.3.w_in.weight", not "blocks.3.input.w_in.weight".
#include <cstdint>
#include <memory>
#include <vector>

#include "layers/config_reader.h"
#include "layers/fused_linear.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/norm.h"
#include "layers/positions.h"
#include "layers/scale_offset.h"

namespace gau::layers {

struct GatedInputOptions {
  int64_t dim = 0, e = 0, s = 0;
  int64_t heads = 2;
  NormKind norm = NormKind::scale_norm;
  double norm_eps = 1e-5;
  bool rope = false;
  int64_t max_length = 0;  // the RoPE table's length
};

// What GAU and FLASH share in their configs: the gated input's shape, positions, and the block's
// length, causality, output dropout and checkpointing.
struct GatedBlockOptions {
  int64_t dim = 512;
  int64_t e = 0;  // 0: 2 dim
  int64_t s = 128;
  NormKind norm = NormKind::scale_norm;
  double norm_eps = 1e-5;
  PositionType position = PositionType::rope;
  int64_t max_length = 0;  // RoPE's table, and the fixed length of GAU's inv_n and FLASH's linear_norm n
  bool causal = false;
  double dropout = 0;  // on the block's output, before the residual
  bool checkpoint = false;
};

// Reads the shared keys (dim, e, s, norm, norm_eps, position, max_length, causal, dropout,
// checkpoint) into o.
void read_gated_block_options(ConfigReader& r, GatedBlockOptions& o);
// Refuses RoPE with an odd s or without max_length, at those keys. A block calls it after reading
// its own keys, so that a bad key of its own is reported first.
void check_gated_rope(ConfigReader& r, const GatedBlockOptions& o);
// The gated input of a block with these options and `heads` scale-offsets.
GatedInputOptions gated_input_options(const GatedBlockOptions& o, int64_t heads);

class GatedInput {
 public:
  GatedInput(Module& owner, const GatedInputOptions& options);

  struct Out {
    Tensor u, v;                // [b, n, e]
    std::vector<Tensor> heads;  // [b, n, s] each
  };
  // x [b, n, dim] for the tokens at positions offset .. offset + n - 1.
  Out forward(const Module& owner, const Tensor& x, int64_t offset);

  const Tensor& dtype_reference() const { return w_in_->weight(); }

 private:
  GatedInputOptions opt_;
  std::shared_ptr<Module> norm_;
  std::shared_ptr<FusedLinear> w_in_;  // sections u, v, z
  std::shared_ptr<ScaleOffset> heads_;
  std::shared_ptr<RotaryEmbedding> rope_;
};

// x, u, a [b, n, .] -> x + dropout((u ⊙ a) W_outᵀ + b_out); dropout with probability p from
// (seed, offset) when `drop` (training), so that a checkpointed block recomputes the same mask.
Tensor gated_output(Linear& w_out, const Tensor& x, const Tensor& u, const Tensor& a, double p, bool drop,
                    uint64_t seed, uint64_t offset);

}  // namespace gau::layers
