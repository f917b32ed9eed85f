#pragma once
// Reads the `optim:` section of a config, and builds its optimizer over a model's flat buffers.
//
//   optim:
//     type: adamw            # sgd | adam | adamw | lamb | adafactor | lion
//     lr: 3e-4               # >= 0 (adafactor with relative_step: a multiplier of the relative step, 1)
//     weight_decay: 0.1      # >= 0 (adamw 0.01, lamb 0.01, the others 0 by default)
//     no_decay: ["*.bias", "*norm*", "*.gamma", "*.beta", "*embedding*"]
//     lr_multipliers: {"blocks.0.*": 0.5}
//     stochastic_rounding: false   # of the bf16/f16 parameters written from the f32 master weights
//     seed: 24301                  # the stochastic rounding's Philox key
//     # adam, adamw, lamb, lion:  betas: [b1, b2], each in [0, 1)
//     # adam, adamw, lamb:        eps: > 0;  adam, adamw: amsgrad: false;  lamb: bias_correction: true
//     # sgd:                      momentum: 0, dampening: 0, nesterov: false
//     # adafactor:                eps: [1e-30, 1e-3], clip_threshold: 1, decay_rate: -0.8,
//     #                           beta1: (unset: no first moment), relative_step: true,
//     #                           scale_parameter: true, warmup_init: false
//
// Defaults are PyTorch's (HF transformers' for Adafactor, the paper's for Lion). Every bad value
// is an error naming its key's config path and position: an unknown type (listing the valid ones),
// a negative lr, a beta outside [0, 1), an eps <= 0, a group pattern that matches no parameter
// (listing a few parameter names), a key that the chosen type does not read. Every check but the
// patterns' needs no model: read_optimizer_config does them all, for `gau config`.
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "layers/config_reader.h"
#include "layers/flat_parameters.h"
#include "optim/adafactor.h"
#include "optim/adam.h"
#include "optim/lamb.h"
#include "optim/lion.h"
#include "optim/optimizer.h"
#include "optim/sgd.h"

namespace gau::optim {

// "sgd", "adam", "adamw", "lamb", "adafactor", "lion".
const std::vector<std::string>& optimizer_types();

// The optim: section, read and checked.
struct OptimizerConfig {
  std::string type;         // one of optimizer_types()
  OptimizerOptions common;  // no_decay, lr_multipliers, stochastic_rounding, seed
  std::variant<SgdOptions, AdamOptions, LambOptions, LionOptions, AdafactorOptions> options;  // the type's
};

// Whether an optimizer type's state can be sharded by element (ZeRO-1): false for lamb and
// adafactor, which need whole parameters (per-parameter trust ratios, factored moments).
bool state_shardable(const std::string& type);

// Reads every key of the section `r` is on and checks that none is left unread; r.filled() then
// holds the section with every default, as make_optimizer would build it. No model is needed, so
// the group patterns are not matched against parameter names.
OptimizerConfig read_optimizer_config(layers::ConfigReader& r);

// read_optimizer_config, then its no_decay and lr_multipliers patterns against a model's
// parameter names (Module::named_parameters): one that matches none is an error at its key. For
// checking a config without the memory of a flat buffer and an optimizer's state.
void check_group_patterns(layers::ConfigReader& r, const std::vector<std::string>& parameter_names);

// read_optimizer_config, then the optimizer over `flat`, updating `shard` of it (ZeRO-1); a group
// pattern that matches no parameter is an error at its key, and so is a type that cannot shard
// (lamb, adafactor) when shard.count > 1.
std::unique_ptr<Optimizer> make_optimizer(layers::ConfigReader& r, layers::FlatParameters& flat,
                                          const Shard& shard = {});

}  // namespace gau::optim
