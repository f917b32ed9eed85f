#include "optim/sgd.h"

#include "core/ops/backend.h"

namespace gau::optim {

Sgd::Sgd(layers::FlatParameters& flat, const SgdOptions& sgd, const OptimizerOptions& options)
    : Optimizer("sgd", flat, sgd.lr, sgd.weight_decay, options, /*merge_ranges=*/true), sgd_(sgd) {
  GAU_CHECK(sgd.momentum >= 0, "sgd: momentum must be >= 0, got ", sgd.momentum);
  GAU_CHECK(sgd.dampening >= 0 && sgd.dampening <= 1, "sgd: dampening must be in [0, 1], got ", sgd.dampening);
  GAU_CHECK(!sgd.nesterov || (sgd.momentum > 0 && sgd.dampening == 0),
            "sgd: nesterov needs momentum > 0 and dampening = 0, got momentum ", sgd.momentum, ", dampening ",
            sgd.dampening);
  if (sgd.momentum != 0)
    for (Group& g : groups()) add_buffer(g, "momentum", g.numel());
}

YAML::Node Sgd::settings() const {
  YAML::Node n;
  n["type"] = type();
  n["lr"] = lr();
  n["momentum"] = sgd_.momentum;
  n["dampening"] = sgd_.dampening;
  n["nesterov"] = sgd_.nesterov;
  n["weight_decay"] = sgd_.weight_decay;
  return n;
}

void Sgd::update(Group& g) {
  const SgdScalars s{lr(), sgd_.momentum, sgd_.dampening, sgd_.nesterov, step_count() == 1};
  const Tensor momentum = buffer_of(g, "momentum");
  const UpdateTarget t = target(g);
  if (g.flat->device.is_cuda()) {
    GAU_CUDA_ONLY(cuda::sgd_step(t, g.table, s, momentum));
  } else {
    cpu::sgd_step(t, g.table, s, momentum);
  }
}

}  // namespace gau::optim
