#pragma once
// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1):
//
//   w = w · (1 − lr · wd)                     (decoupled decay; wd = 0 for a no_decay range)
//   w = w − lr · sign(β1 · m + (1 − β1) · g)  (sign(0) = 0)
//   m = β2 · m + (1 − β2) · g
//
// One fused pass per flat group (optim/kernels.h: lion_step). State: m.
#include "optim/optimizer.h"

namespace gau::optim {

struct LionOptions {
  double lr = 1e-4;
  double beta1 = 0.9, beta2 = 0.99;
  double weight_decay = 0;
};

class Lion : public Optimizer {
 public:
  Lion(layers::FlatParameters& flat, const LionOptions& lion, const OptimizerOptions& options = {});
  YAML::Node settings() const override;

 private:
  void update(Group& g) override;
  LionOptions lion_;
};

}  // namespace gau::optim
