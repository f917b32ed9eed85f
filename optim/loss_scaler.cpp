#include "optim/loss_scaler.h"

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/backend.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "optim/loss_scaler_kernels.h"

namespace gau::optim {

using layers::Range;

namespace {

void check_options(const LossScalerOptions& o) {
  GAU_CHECK(std::isfinite(o.init) && o.init > 0, "loss_scale: init must be finite and > 0, got ", o.init);
  GAU_CHECK(std::isfinite(o.growth) && o.growth >= 1, "loss_scale: growth must be finite and >= 1, got ", o.growth);
  GAU_CHECK(o.backoff > 0 && o.backoff <= 1, "loss_scale: backoff must be in (0, 1], got ", o.backoff);
  GAU_CHECK(o.growth_interval >= 1, "loss_scale: growth_interval must be >= 1, got ", o.growth_interval);
}

// The one-element tensor `dict[key]` of `dtype`, or an error naming the key.
Tensor state_entry(const layers::StateDict& dict, const std::string& key, DType dtype) {
  auto it = dict.find(key);
  GAU_CHECK(it != dict.end(), "LossScaler::load_state_dict: missing key '", key, "'");
  const Tensor& t = it->second;
  GAU_CHECK(t.defined() && t.numel() == 1 && t.dtype() == dtype, "LossScaler::load_state_dict: '", key, "' must be ",
            dtype_name(dtype), "[1], got ", t.defined() ? describe(t) : std::string("undefined"));
  return t;
}

}  // namespace

LossScaler::LossScaler(const LossScalerOptions& options) : options_(options), scale_(options.init) {
  check_options(options_);
}

LossScaler LossScaler::from_config(layers::ConfigReader& r) {
  LossScalerOptions o;
  o.init = r.number("init", o.init, Range::greater_than(0));
  o.growth = r.number("growth", o.growth, Range::at_least(1));
  o.backoff = r.number("backoff", o.backoff, Range::greater_than(0));
  if (o.backoff > 1) r.fail("backoff", detail::concat("must be in (0, 1], got ", o.backoff));
  o.growth_interval = r.integer("growth_interval", o.growth_interval, Range::at_least(1));
  r.check_no_unknown_keys();
  return LossScaler(o);
}

Tensor LossScaler::scale(const Tensor& loss) const {
  GAU_CHECK(loss.defined() && loss.numel() == 1 && is_floating(loss.dtype()),
            "LossScaler::scale: expected a floating one-element loss, got ",
            loss.defined() ? describe(loss) : std::string("undefined"));
  // In f32 at least: the default scale 65536 is past fp16's largest finite value, 65504.
  const DType wide = loss.dtype() == DType::f64 ? DType::f64 : DType::f32;
  return gau::mul(gau::to_dtype(loss, wide), scale_);
}

void unscale_and_check_(const Tensor& grads, double inv_scale, const Tensor& found) {
  GAU_CHECK(grads.defined() && is_floating(grads.dtype()) && grads.dim() == 1 && grads.is_contiguous(),
            "unscale_and_check_: expected a contiguous floating [n] gradient buffer, got ",
            grads.defined() ? describe(grads) : std::string("undefined"));
  GAU_CHECK(found.defined() && found.dtype() == DType::i32 && found.numel() == 1 && found.device() == grads.device(),
            "unscale_and_check_: expected the flag as i32[1] on ", grads.device(), ", got ",
            found.defined() ? describe(found) : std::string("undefined"));
  if (grads.is_cuda()) {
    GAU_CUDA_ONLY(cuda::unscale_and_check_(grads, inv_scale, found));
  } else {
    cpu::unscale_and_check_(grads, inv_scale, found);
  }
  grads.bump_version();
}

bool LossScaler::unscale_and_check(const layers::FlatParameters& flat) {
  // One flag per device, read after every buffer on it has been queued.
  std::vector<Tensor> flags;
  auto flag_for = [&](Device d) -> const Tensor& {
    for (const Tensor& f : flags) {
      if (f.device() == d) return f;
    }
    flags.push_back(ops::zeros({1}, DType::i32, d));
    return flags.back();
  };
  for (const layers::FlatGroup& g : flat.groups()) unscale_and_check_(g.grads, 1.0 / scale_, flag_for(g.device));
  bool finite = true;
  for (const Tensor& f : flags) finite = finite && f.item() == 0;
  if (!finite) flat.zero_grad();
  return update_scale(finite);
}

bool LossScaler::unscale_and_check(const std::vector<Tensor>& grads, const std::function<bool(bool)>& any_over_ranks) {
  bool found = false;
  for (const Tensor& g : grads) {
    const Tensor flag = ops::zeros({1}, DType::i32, g.device());
    unscale_and_check_(g, 1.0 / scale_, flag);
    found = found || flag.item() != 0;
  }
  const bool finite = !any_over_ranks(found);
  if (!finite)
    for (const Tensor& g : grads) ops::fill_(g, 0.0);
  return update_scale(finite);
}

bool LossScaler::update_scale(bool finite) {
  if (!finite) {
    scale_ *= options_.backoff;
    good_steps_ = 0;
    ++skipped_steps_;
    return false;
  }
  if (++good_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth;
    good_steps_ = 0;
  }
  return true;
}

layers::StateDict LossScaler::state_dict() const {
  return {{"scale", ops::full({1}, scale_, DType::f64)},
          {"good_steps", ops::full({1}, static_cast<double>(good_steps_), DType::i64)},
          {"skipped_steps", ops::full({1}, static_cast<double>(skipped_steps_), DType::i64)}};
}

void LossScaler::load_state_dict(const layers::StateDict& dict) {
  for (const auto& [key, value] : dict) {
    GAU_CHECK(key == "scale" || key == "good_steps" || key == "skipped_steps",
              "LossScaler::load_state_dict: unexpected key '", key, "' (expected scale, good_steps, skipped_steps)");
  }
  const double scale = state_entry(dict, "scale", DType::f64).item();
  const auto good = static_cast<int64_t>(state_entry(dict, "good_steps", DType::i64).item());
  const auto skipped = static_cast<int64_t>(state_entry(dict, "skipped_steps", DType::i64).item());
  GAU_CHECK(std::isfinite(scale) && scale > 0, "LossScaler::load_state_dict: 'scale' must be finite and > 0, got ",
            scale);
  GAU_CHECK(good >= 0 && skipped >= 0, "LossScaler::load_state_dict: step counts must be >= 0, got good_steps ", good,
            ", skipped_steps ", skipped);
  scale_ = scale;
  good_steps_ = good;
  skipped_steps_ = skipped;
}

}  // namespace gau::optim
