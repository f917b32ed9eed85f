#include "optim/adafactor.h"

#include <algorithm>
#include <cmath>

#include "core/ops/backend.h"

namespace gau::optim {

Adafactor::Adafactor(layers::FlatParameters& flat, const AdafactorOptions& af, const OptimizerOptions& options)
    : Optimizer("adafactor", flat, af.lr, af.weight_decay, options, /*merge_ranges=*/false), af_(af) {
  GAU_CHECK(af.eps1 > 0 && af.eps2 > 0, "adafactor: eps must be > 0, got (", af.eps1, ", ", af.eps2, ")");
  GAU_CHECK(af.clip_threshold > 0, "adafactor: clip_threshold must be > 0, got ", af.clip_threshold);
  GAU_CHECK(af.decay_rate < 0, "adafactor: decay_rate must be < 0 (beta2_t = 1 - t^decay_rate), got ", af.decay_rate);
  GAU_CHECK(!af.beta1 || valid_beta(*af.beta1), "adafactor: beta1 must be in [0, 1), got ", af.beta1.value_or(0));
  GAU_CHECK(!af.warmup_init || af.relative_step, "adafactor: warmup_init needs relative_step");
  for (Group& g : groups()) {
    // The compact second moments: rows + cols per factored parameter, numel per 1-D one.
    int64_t aux = 0;
    for (KernelRange& r : g.table.ranges) {
      r.aux = aux;
      aux += r.cols > 0 ? r.rows + r.cols : r.numel;
    }
    g.table = make_range_table(g.table.ranges, g.flat->device);
    add_buffer(g, "exp_avg_sq", aux);
    if (af.beta1) add_buffer(g, "exp_avg", g.numel());
  }
}

YAML::Node Adafactor::settings() const {
  YAML::Node n;
  n["type"] = type();
  n["lr"] = lr();
  n["eps"].push_back(af_.eps1);
  n["eps"].push_back(af_.eps2);
  n["clip_threshold"] = af_.clip_threshold;
  n["decay_rate"] = af_.decay_rate;
  if (af_.beta1) n["beta1"] = *af_.beta1;
  n["weight_decay"] = af_.weight_decay;
  n["scale_parameter"] = af_.scale_parameter;
  n["relative_step"] = af_.relative_step;
  n["warmup_init"] = af_.warmup_init;
  return n;
}

double Adafactor::relative_step_at(double t) const {
  return af_.relative_step ? std::min(af_.warmup_init ? 1e-6 * t : 1e-2, 1 / std::sqrt(t)) : 1.0;
}

double Adafactor::step_size() const {
  return lr() * relative_step_at(static_cast<double>(std::max<int64_t>(step_count(), 1)));
}

void Adafactor::update(Group& g) {
  const double t = static_cast<double>(step_count());
  const AdafactorScalars s{lr() * relative_step_at(t),
                           1 - std::pow(t, af_.decay_rate),
                           af_.eps1,
                           af_.eps2,
                           af_.clip_threshold,
                           af_.beta1.value_or(0),
                           af_.scale_parameter,
                           af_.beta1.has_value()};
  const UpdateTarget target_ = target(g);
  const Tensor second = buffer_of(g, "exp_avg_sq"), m = buffer_of(g, "exp_avg");
  if (g.flat->device.is_cuda()) {
    GAU_CUDA_ONLY(cuda::adafactor_step(target_, g.table, s, second, m));
  } else {
    cpu::adafactor_step(target_, g.table, s, second, m);
  }
}

}  // namespace gau::optim
