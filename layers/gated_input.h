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
