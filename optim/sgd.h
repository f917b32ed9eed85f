#pragma once
// SGD with momentum, dampening, Nesterov and (L2) weight decay, as torch.optim.SGD:
//
//   d = g + wd · w                                   (wd = 0 for a no_decay range)
//   b = d                               at step 1    (no dampening on the first step)
//   b = μ · b + (1 − τ) · d             after        (μ momentum, τ dampening)
//   d = d + μ · b  (nesterov)   or   d = b           (when μ ≠ 0)
//   w = w − lr · d
//
// One fused pass per flat group (optim/kernels.h: sgd_step). State: the momentum buffer b when
// μ ≠ 0.
#include "optim/optimizer.h"

namespace gau::optim {

struct SgdOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening = 0, as in PyTorch
};

class Sgd : public Optimizer {
 public:
  Sgd(layers::FlatParameters& flat, const SgdOptions& sgd, const OptimizerOptions& options = {});
  YAML::Node settings() const override;

 private:
  void update(Group& g) override;
  SgdOptions sgd_;
};

}  // namespace gau::optim
