#pragma once
// Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
// Cost", Algorithms 4 and 5), as HF transformers' Adafactor, per parameter at step t:
//
//   ρ_t = min(1e-2, 1/√t)   (relative_step; 1e-6 · t instead of 1e-2 with warmup_init)
//   α_t = lr · mult · ρ_t · max(ε2, RMS(w))  (scale_parameter; else lr · mult · ρ_t)
//         with relative_step off, ρ_t = 1 (HF: lr itself; here lr is a multiplier of the relative
//         step when it is on, 1 by default, so a schedule can still scale it)
//   β2_t = 1 − t^c                           (c = decay_rate = −0.8)
//   G = g² + ε1
//   2-D view [rows, cols] (rows = numel / last dim):
//     R = β2_t R + (1 − β2_t) · mean_j G      [rows]
//     C = β2_t C + (1 − β2_t) · mean_i G      [cols]
//     V = (R / mean(R)) ⊗ C                    (HF: _approx_sq_grad)
//   1-D: V = β2_t V + (1 − β2_t) · G
//   U = g / √V
//   U = U / max(1, RMS(U) / d)               (update clipping, d = clip_threshold)
//   U = α_t · U
//   m = β1 m + (1 − β1) U,  U = m             (first moment, only when beta1 is set)
//   w = w − wd · α_t · w − U                   (wd = 0 for a no_decay parameter)
//
// RMS(x) = ‖x‖ / √numel. HF factors a > 2-D parameter over its last two dims per leading index;
// here it is the 2-D view above (the same for 2-D weights). State: R and C (factored) or V (1-D)
// in one compact buffer; m [total] with beta1. The compact buffer ("exp_avg_sq" of a group, as
// checkpoints store it) holds the group's parameters in its layout order (state.json's names),
// end to end without alignment: R [rows] then C [cols] for a >= 2-D parameter, V [numel] for a
// 1-D one. Passes per range: one for RMS(w) and the sums of G per row (and per column block), one
// for RMS(U), one to apply.
#include <optional>

#include "optim/optimizer.h"

namespace gau::optim {

struct AdafactorOptions {
  double lr = 1.0;  // with relative_step a multiplier of ρ_t; else the step size
  double eps1 = 1e-30, eps2 = 1e-3;
  double clip_threshold = 1.0;
  double decay_rate = -0.8;
  std::optional<double> beta1;  // the first moment, off by default
  double weight_decay = 0;
  bool scale_parameter = true;
  bool relative_step = true;
  bool warmup_init = false;
};

class Adafactor : public Optimizer {
 public:
  Adafactor(layers::FlatParameters& flat, const AdafactorOptions& adafactor, const OptimizerOptions& options = {});
  YAML::Node settings() const override;
  // lr × ρ_t of the last step (before the RMS(w) scale of scale_parameter, which is per parameter).
  double step_size() const override;

 private:
  // ρ_t: the relative step at step t, or 1 with relative_step off.
  double relative_step_at(double t) const;
  void update(Group& g) override;
  AdafactorOptions af_;
};

}  // namespace gau::optim
