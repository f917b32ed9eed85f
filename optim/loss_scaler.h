#pragma once
// Dynamic loss scaling for fp16 training (optim/precision.h says when it is on).
//
// fp16 keeps 11 significant bits between about 6e-8 and 65504: small gradients of activations
// flush to zero. Scaling the loss by S scales every gradient by S, which moves them into range;
// the gradients are divided by S again before the optimizer sees them. S is chosen dynamically:
//
//   loss_scaled = scaler.scale(loss)            // loss · S, before backward
//   loss_scaled.backward();
//   if (scaler.unscale_and_check(flat)) {       // g *= 1/S, and finite?
//     clip, optimizer step                      // on the true gradients
//   }                                           // else: skipped, S *= backoff, grads zeroed
//   flat.zero_grad();
//
// unscale_and_check: one fused pass per gradient buffer multiplies by 1/S (in f32; exact division
// while S is a power of two, as the defaults keep it) and flags any inf or nan. On CUDA each
// buffer's kernel writes a device flag and the host reads it once per device. Then:
//   non-finite:  the step is skipped (returns false), S *= backoff, the good-step count restarts
//                and every gradient buffer is zeroed (the half-unscaled infs are no use to anyone)
//   finite:      returns true; after growth_interval finite steps in a row, S *= growth
//   torch: torch.amp.GradScaler (scale, unscale_, step's skip, update), fused into one call.
//
// In data-parallel training the flag must agree across ranks (all-reduce it) before deciding;
// that is the distributed layer's part.
//
// Config:
//   loss_scale: {init: 65536, growth: 2, backoff: 0.5, growth_interval: 2000}
//   init > 0, growth >= 1, backoff in (0, 1], growth_interval >= 1
#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "layers/config_reader.h"
#include "layers/flat_parameters.h"
#include "layers/module.h"

namespace gau::optim {

struct LossScalerOptions {
  double init = 65536;
  double growth = 2;
  double backoff = 0.5;
  int64_t growth_interval = 2000;
};

class LossScaler {
 public:
  // Checks the options (the config's rules), naming the bad one.
  explicit LossScaler(const LossScalerOptions& options = {});
  // Reads the loss_scale map's keys.
  static LossScaler from_config(layers::ConfigReader& r);

  // loss [] (any floating dtype) -> loss · S, differentiable.
  Tensor scale(const Tensor& loss) const;
  // Unscales every gradient buffer of `flat` in place and updates S as above; true when every
  // gradient was finite, so the step may be taken.
  bool unscale_and_check(const layers::FlatParameters& flat);
  // The same over `grads` (ZeRO-1: this rank's shards of the gradient buffers), where
  // `any_over_ranks` turns this rank's "found a non-finite gradient" into whether any rank found
  // one, so every rank skips or steps alike. Zeroes `grads` on a skipped step.
  bool unscale_and_check(const std::vector<Tensor>& grads, const std::function<bool(bool)>& any_over_ranks);

  double scale_value() const { return scale_; }
  // Finite steps since the last growth or back-off.
  int64_t good_steps() const { return good_steps_; }
  // Steps skipped for inf/nan since the start of training (kept through state_dict).
  int64_t skipped_steps() const { return skipped_steps_; }
  const LossScalerOptions& options() const { return options_; }

  // {"scale": f64 [1], "good_steps": i64 [1], "skipped_steps": i64 [1]} on the CPU: what resuming
  // needs, in the checkpoint's tensor form. The options come from config, not from here.
  layers::StateDict state_dict() const;
  // Strict: a missing or unexpected key, a wrong shape or dtype, or a scale that is not finite and
  // > 0 is an error naming it, and nothing is loaded then.
  void load_state_dict(const layers::StateDict& dict);

 private:
  // S's back-off or growth after a check: returns `finite`.
  bool update_scale(bool finite);

  LossScalerOptions options_;
  double scale_;
  int64_t good_steps_ = 0;
  int64_t skipped_steps_ = 0;
};

// The fused pass over one buffer, for callers holding gradient buffers of their own:
// grads [n] contiguous floating, in place: g = g · inv_scale (in f32, or f64 for f64); `found`,
// i32 [1] on grads' device, is set to 1 when any g was inf or nan and left alone otherwise.
void unscale_and_check_(const Tensor& grads, double inv_scale, const Tensor& found);

}  // namespace gau::optim
