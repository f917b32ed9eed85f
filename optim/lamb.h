#pragma once
// LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning", Algorithm 2, with φ the
// identity), per parameter (one range per parameter), at step t:
//
//   m = β1 · m + (1 − β1) · g
//   v = β2 · v + (1 − β2) · g²
//   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)          (bias_correction; else m̂ = m, v̂ = v)
//   u = m̂ / (√v̂ + ε) + wd · w                     (wd = 0 for a no_decay parameter)
//   r = ‖w‖ / ‖u‖   when both norms are > 0, else 1  (the trust ratio, every parameter)
//   w = w − lr · r · u
//
// As NVIDIA apex's FusedLAMB (without its global gradient-norm clipping, which is optim's
// clipping's job). The kernel makes two passes over each range: the first updates m and v and
// sums w² and u² per chunk; the second sums a range's chunks in order (deterministic for any
// thread or block count) and applies the update, recomputing u from the new m and v.
#include "optim/optimizer.h"

namespace gau::optim {

struct LambOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-6;
  double weight_decay = 0.01;
  bool bias_correction = true;
};

class Lamb : public Optimizer {
 public:
  Lamb(layers::FlatParameters& flat, const LambOptions& lamb, const OptimizerOptions& options = {});
  YAML::Node settings() const override;

 private:
  void update(Group& g) override;
  LambOptions lamb_;
  std::vector<Tensor> partial_;  // per group: [chunks, 2] f64 squared norms
};

}  // namespace gau::optim
