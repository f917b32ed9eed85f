#include "optim/lion.h"

#include "core/ops/backend.h"

namespace gau::optim {

Lion::Lion(layers::FlatParameters& flat, const LionOptions& lion, const OptimizerOptions& options)
    : Optimizer("lion", flat, lion.lr, lion.weight_decay, options, /*merge_ranges=*/true), lion_(lion) {
  GAU_CHECK(valid_beta(lion.beta1) && valid_beta(lion.beta2), "lion: betas must be in [0, 1), got (", lion.beta1, ", ",
            lion.beta2, ")");
  for (Group& g : groups()) add_buffer(g, "exp_avg", g.numel());
}

YAML::Node Lion::settings() const {
  YAML::Node n;
  n["type"] = type();
  n["lr"] = lr();
  n["betas"].push_back(lion_.beta1);
  n["betas"].push_back(lion_.beta2);
  n["weight_decay"] = lion_.weight_decay;
  return n;
}

void Lion::update(Group& g) {
  const LionScalars s{lr(), lion_.beta1, lion_.beta2};
  const UpdateTarget t = target(g);
  const Tensor m = buffer_of(g, "exp_avg");
  if (g.flat->device.is_cuda()) {
    GAU_CUDA_ONLY(cuda::lion_step(t, g.table, s, m));
  } else {
    cpu::lion_step(t, g.table, s, m);
  }
}

}  // namespace gau::optim
