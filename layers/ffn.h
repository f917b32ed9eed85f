#pragma once
// Feed-forward blocks: x [..., d] -> [..., d] through a hidden width h.
//
//   MLP:     y = act(x W_in^T + b_in) W_out^T + b_out              W_in [h, d], W_out [d, h]
//            PyTorch: F.linear(act(F.linear(x, W_in, b_in)), W_out, b_out)
//   GLU:     [a | g] = x W_in^T + b_in  (ONE GEMM d -> 2h, FusedLinear sections "gate", "up")
//            y = (sigmoid(a) ⊙ g) W_out^T + b_out                  (Dauphin et al. 2017)
//   SwiGLU:  y = (silu(a) ⊙ g) W_out^T + b_out                     (Shazeer 2020; Transformer++)
//            PyTorch: F.linear(F.silu(x @ W_gate.T) * (x @ W_up.T), W_out)
//
// The MLP's bias and activation are one fused bias_act pass over the hidden activations.
// Defaults: MLP hidden = 4d with biases; GLU and SwiGLU hidden = 8d/3 rounded up to a multiple
// of 8 (the same parameters as a 4d MLP: 3·d·h ≈ 2·d·4d) without biases, as in LLaMA.
//
// Configs:
//   {type: mlp, dim: 512, hidden: 2048, activation: gelu, bias: true, init: uniform}
//   {type: glu, dim: 512, hidden: 1368, bias: false}
//   {type: swiglu, dim: 512, hidden: 1368, bias: false}
//   activation (mlp): relu | relu2 | silu | gelu;  init, init_std: as for linear
#include <cstdint>
#include <memory>

#include "core/ops/elementwise.h"
#include "layers/config_reader.h"
#include "layers/fused_linear.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace gau::layers {

enum class FfnKind { mlp, glu, swiglu };

struct FfnOptions {
  FfnKind kind = FfnKind::swiglu;
  int64_t dim = 0;
  int64_t hidden = 0;                                  // 0: the kind's default (above)
  ops::Activation activation = ops::Activation::gelu;  // mlp only
  LinearOptions linear;                                // bias and init of both projections
};

// The default hidden width of `kind` for model width d.
int64_t default_ffn_hidden(FfnKind kind, int64_t dim);

class FeedForward : public Module {
 public:
  explicit FeedForward(const FfnOptions& options);

  // x [..., d] -> [..., d]
  Tensor forward(const Tensor& x) override;

  int64_t dim() const { return options_.dim; }
  int64_t hidden() const { return options_.hidden; }
  FfnKind kind() const { return options_.kind; }
  // The input projection: Linear [h, d] (mlp) or FusedLinear [2h, d] with "gate", "up" (glu, swiglu).
  const Module& w_in() const { return *w_in_; }
  const Linear& w_out() const { return *w_out_; }

  static const char* example_config();
  static Tensor example_input(const FeedForward& m, uint64_t seed);  // [2, 3, d]

 protected:
  // Reads dim, hidden, bias, init, init_std (and activation for mlp).
  static FfnOptions read_options(ConfigReader& r, FfnKind kind);

 private:
  FfnOptions options_;
  std::shared_ptr<Linear> mlp_in_;
  std::shared_ptr<FusedLinear> gated_in_;
  std::shared_ptr<Module> w_in_;
  std::shared_ptr<Linear> w_out_;
};

// The registered kinds; each is a FeedForward of its kind.
class Mlp : public FeedForward {
 public:
  using FeedForward::FeedForward;
  static std::shared_ptr<Module> from_config(ConfigReader& r);
};
class Glu : public FeedForward {
 public:
  using FeedForward::FeedForward;
  static std::shared_ptr<Module> from_config(ConfigReader& r);
};
class SwiGlu : public FeedForward {
 public:
  using FeedForward::FeedForward;
  static std::shared_ptr<Module> from_config(ConfigReader& r);
};

}  // namespace gau::layers
