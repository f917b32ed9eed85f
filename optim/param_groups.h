#pragma once
// Parameter groups by name pattern: which parameters get no weight decay and which an lr
// multiplier. A group is a set of ranges of the flat buffers, never separate tensors.
//
//   optim:
//     no_decay: ["*.bias", "*norm*", "*.gamma", "*.beta", "*embedding*"]
//     lr_multipliers: {"blocks.0.*": 0.5}
//
// Patterns are globs over hierarchical parameter names ("blocks.3.gau.w_in.weight"): `*` matches
// any run of characters (dots included), `?` one character, everything else itself. A parameter
// takes the multiplier of the FIRST lr_multipliers pattern it matches (document order), 1 when it
// matches none. A pattern that matches no parameter is an error: it is a typo or a stale config.
//
// PyTorch equivalent: param_groups = [{"params": decay, "weight_decay": wd},
//                                     {"params": no_decay, "weight_decay": 0.0}], with lr × mult.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "layers/flat_parameters.h"
#include "optim/kernels.h"

namespace gau::optim {

struct GroupRules {
  std::vector<std::string> no_decay;                           // glob patterns
  std::vector<std::pair<std::string, double>> lr_multipliers;  // (glob pattern, multiplier)
};

// Whether `name` matches the glob `pattern` (the whole name).
bool glob_match(const std::string& pattern, const std::string& name);

// The parameters' names, group by group in registration order.
std::vector<std::string> parameter_names(const layers::FlatParameters& flat);
// The first pattern of `rules` (no_decay first, then lr_multipliers) that matches none of the
// parameter `names`, or "" when every one matches something.
std::string unmatched_pattern(const GroupRules& rules, const std::vector<std::string>& names);
// "lin.weight, lin.bias, ... (12 in all)": a few names, for messages.
std::string some_parameter_names(const std::vector<std::string>& names, size_t count = 6);

// The ranges of `group` with their settings (weight_decay = `weight_decay` or 0, lr_scale).
// `merge`: adjacent entries with equal settings become one range spanning the alignment gap
// between them (zeros in params and grads, which an elementwise update keeps zero); without it,
// one range per parameter (LAMB's per-parameter norms, Adafactor's factored moments), with its
// matrix view: rows = numel / last dim, cols = last dim for a >= 2-D parameter.
std::vector<KernelRange> group_ranges(const layers::FlatGroup& group, const GroupRules& rules, double weight_decay,
                                      bool merge);

}  // namespace gau::optim
