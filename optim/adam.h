#pragma once
// Adam and AdamW, as torch.optim.Adam / torch.optim.AdamW (Kingma & Ba 2015; Loshchilov & Hutter
// 2019), at step t (1 on the first step):
//
//   Adam:  g = g + wd · w                     (L2 decay, into the gradient)
//   AdamW: w = w · (1 − lr · wd)              (decoupled decay)
//   m = m + (1 − β1) · (g − m)                (torch: exp_avg.lerp_(grad, 1 - beta1))
//   v = β2 · v + (1 − β2) · g²
//   v̂ = max(v̂, v)  and use v̂ for v below      (amsgrad)
//   w = w − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
//
// wd = 0 for a no_decay range; lr is the base lr times the range's multiplier. One fused pass per
// flat group (optim/kernels.h: adam_step) reads w, g, m, v (and v̂) and writes w, m, v (and v̂):
// 7 × 4 bytes per f32 parameter without amsgrad. State: m, v and v̂ when amsgrad.
#include "optim/optimizer.h"

namespace gau::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool decoupled = false;  // AdamW
};

class Adam : public Optimizer {
 public:
  // type() is "adamw" when adam.decoupled, else "adam".
  Adam(layers::FlatParameters& flat, const AdamOptions& adam, const OptimizerOptions& options = {});
  YAML::Node settings() const override;

 private:
  void update(Group& g) override;
  AdamOptions adam_;
};

}  // namespace gau::optim
