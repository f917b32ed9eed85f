#include "optim/lamb.h"

#include <cmath>

#include "core/ops/backend.h"
#include "core/ops/factory.h"

namespace gau::optim {

Lamb::Lamb(layers::FlatParameters& flat, const LambOptions& lamb, const OptimizerOptions& options)
    : Optimizer("lamb", flat, lamb.lr, lamb.weight_decay, options, /*merge_ranges=*/false), lamb_(lamb) {
  GAU_CHECK(valid_beta(lamb.beta1) && valid_beta(lamb.beta2), "lamb: betas must be in [0, 1), got (", lamb.beta1, ", ",
            lamb.beta2, ")");
  GAU_CHECK(lamb.eps > 0, "lamb: eps must be > 0, got ", lamb.eps);
  for (Group& g : groups()) {
    const int64_t n = g.numel();
    add_buffer(g, "exp_avg", n);
    add_buffer(g, "exp_avg_sq", n);
    partial_.push_back(ops::zeros({static_cast<int64_t>(g.table.chunks.size()), 2}, DType::f64, g.flat->device));
  }
}

YAML::Node Lamb::settings() const {
  YAML::Node n;
  n["type"] = type();
  n["lr"] = lr();
  n["betas"].push_back(lamb_.beta1);
  n["betas"].push_back(lamb_.beta2);
  n["eps"] = lamb_.eps;
  n["weight_decay"] = lamb_.weight_decay;
  n["bias_correction"] = lamb_.bias_correction;
  return n;
}

void Lamb::update(Group& g) {
  const double t = static_cast<double>(step_count());
  const bool bc = lamb_.bias_correction;
  const LambScalars s{lr(),
                      lamb_.beta1,
                      lamb_.beta2,
                      lamb_.eps,
                      bc ? 1 - std::pow(lamb_.beta1, t) : 1.0,
                      bc ? 1 - std::pow(lamb_.beta2, t) : 1.0};
  const UpdateTarget target_ = target(g);
  const Tensor m = buffer_of(g, "exp_avg"), v = buffer_of(g, "exp_avg_sq");
  const Tensor& partial = partial_[static_cast<size_t>(&g - groups().data())];
  if (g.flat->device.is_cuda()) {
    GAU_CUDA_ONLY(cuda::lamb_step(target_, g.table, s, m, v, partial));
  } else {
    cpu::lamb_step(target_, g.table, s, m, v, partial);
  }
}

}  // namespace gau::optim
