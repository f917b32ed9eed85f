#include "optim/adam.h"

#include <cmath>

#include "core/ops/backend.h"

namespace gau::optim {

Adam::Adam(layers::FlatParameters& flat, const AdamOptions& adam, const OptimizerOptions& options)
    : Optimizer(adam.decoupled ? "adamw" : "adam", flat, adam.lr, adam.weight_decay, options, /*merge_ranges=*/true),
      adam_(adam) {
  GAU_CHECK(valid_beta(adam.beta1) && valid_beta(adam.beta2), type(), ": betas must be in [0, 1), got (", adam.beta1,
            ", ", adam.beta2, ")");
  GAU_CHECK(adam.eps > 0, type(), ": eps must be > 0, got ", adam.eps);
  for (Group& g : groups()) {
    const int64_t n = g.numel();
    add_buffer(g, "exp_avg", n);
    add_buffer(g, "exp_avg_sq", n);
    if (adam.amsgrad) add_buffer(g, "max_exp_avg_sq", n);
  }
}

YAML::Node Adam::settings() const {
  YAML::Node n;
  n["type"] = type();
  n["lr"] = lr();
  n["betas"].push_back(adam_.beta1);
  n["betas"].push_back(adam_.beta2);
  n["eps"] = adam_.eps;
  n["weight_decay"] = adam_.weight_decay;
  n["amsgrad"] = adam_.amsgrad;
  return n;
}

void Adam::update(Group& g) {
  const double t = static_cast<double>(step_count());
  const AdamScalars s{lr(),
                      adam_.beta1,
                      adam_.beta2,
                      adam_.eps,
                      1 - std::pow(adam_.beta1, t),
                      std::sqrt(1 - std::pow(adam_.beta2, t)),
                      adam_.decoupled,
                      adam_.amsgrad};
  const UpdateTarget target_ = target(g);
  const Tensor m = buffer_of(g, "exp_avg"), v = buffer_of(g, "exp_avg_sq"), v_max = buffer_of(g, "max_exp_avg_sq");
  if (g.flat->device.is_cuda()) {
    GAU_CUDA_ONLY(cuda::adam_step(target_, g.table, s, m, v, v_max));
  } else {
    cpu::adam_step(target_, g.table, s, m, v, v_max);
  }
}

}  // namespace gau::optim
