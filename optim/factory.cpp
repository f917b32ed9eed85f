#include "optim/factory.h"

#include <cmath>
#include <optional>
#include <type_traits>

namespace gau::optim {

namespace {

using layers::ConfigReader;
using layers::Range;

std::string shown(const YAML::Node& v) {
  if (v.IsScalar()) return "'" + v.Scalar() + "'";
  if (v.IsSequence()) return "a list of " + std::to_string(v.size());
  return v.IsMap() ? "a map" : "nothing";
}

double number_of(ConfigReader& r, const std::string& key, const YAML::Node& v, const std::string& what) {
  double x = 0;
  try {
    if (!v.IsScalar()) r.fail(key, what + ": expected a number, got " + shown(v));
    x = v.as<double>();
  } catch (const YAML::Exception&) {
    r.fail(key, what + ": expected a number, got " + shown(v));
  }
  if (!std::isfinite(x)) r.fail(key, what + ": expected a finite number, got " + shown(v));
  return x;
}

// A list of exactly `count` numbers, each checked by `ok` (described by `rule`).
std::vector<double> numbers(ConfigReader& r, const std::string& key, std::vector<double> fallback, bool (*ok)(double),
                            const std::string& rule) {
  const YAML::Node v = r.raw(key, "list of " + std::to_string(fallback.size()) + " numbers " + rule);
  std::vector<double> out = fallback;
  if (v.IsDefined()) {
    if (!v.IsSequence() || v.size() != fallback.size())
      r.fail(key, "expected a list of " + std::to_string(fallback.size()) + " numbers, got " + shown(v));
    for (size_t i = 0; i < v.size(); ++i) out[i] = number_of(r, key, v[i], "element " + std::to_string(i));
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (!ok(out[i]))
      r.fail(key, "element " + std::to_string(i) + " must be " + rule + ", got " + std::to_string(out[i]));
  YAML::Node filled(YAML::NodeType::Sequence);
  for (double x : out) filled.push_back(x);
  r.record(key, filled);
  return out;
}

std::vector<double> betas(ConfigReader& r, double b1, double b2) {
  return numbers(
      r, "betas", {b1, b2}, [](double b) { return valid_beta(b); }, "in [0, 1)");
}

GroupRules group_rules(ConfigReader& r) {
  GroupRules rules;
  const YAML::Node nd = r.raw("no_decay", "list of name patterns");
  if (nd.IsDefined() && !nd.IsNull()) {
    if (!nd.IsSequence()) r.fail("no_decay", "expected a list of name patterns, got " + shown(nd));
    for (size_t i = 0; i < nd.size(); ++i) {
      if (!nd[i].IsScalar()) r.fail("no_decay", "element " + std::to_string(i) + ": expected a pattern string");
      rules.no_decay.push_back(nd[i].Scalar());
    }
  }
  const YAML::Node lm = r.raw("lr_multipliers", "map of name patterns to multipliers >= 0");
  if (lm.IsDefined() && !lm.IsNull()) {
    if (!lm.IsMap()) r.fail("lr_multipliers", "expected a map of name patterns to multipliers, got " + shown(lm));
    for (auto it = lm.begin(); it != lm.end(); ++it) {
      const std::string pattern = it->first.Scalar();
      const double mult = number_of(r, "lr_multipliers", it->second, "'" + pattern + "'");
      if (mult < 0) r.fail("lr_multipliers", "'" + pattern + "' must be >= 0, got " + std::to_string(mult));
      rules.lr_multipliers.emplace_back(pattern, mult);
    }
  }
  YAML::Node filled_nd(YAML::NodeType::Sequence), filled_lm(YAML::NodeType::Map);
  for (const std::string& p : rules.no_decay) filled_nd.push_back(p);
  for (const auto& [p, m] : rules.lr_multipliers) filled_lm[p] = m;
  r.record("no_decay", filled_nd);
  r.record("lr_multipliers", filled_lm);
  return rules;
}

// A pattern that matches nothing is a typo or a stale config: name it and show what exists.
void check_patterns_match(const ConfigReader& r, const GroupRules& rules, const std::vector<std::string>& names) {
  GroupRules one;
  for (const std::string& p : rules.no_decay) {
    one.no_decay = {p};
    if (!unmatched_pattern(one, names).empty())
      r.fail("no_decay", "pattern '" + p + "' matches no parameter; parameters are " + some_parameter_names(names));
  }
  one.no_decay.clear();
  for (const auto& entry : rules.lr_multipliers) {
    one.lr_multipliers = {entry};
    if (!unmatched_pattern(one, names).empty())
      r.fail("lr_multipliers",
             "pattern '" + entry.first + "' matches no parameter; parameters are " + some_parameter_names(names));
  }
}

}  // namespace

const std::vector<std::string>& optimizer_types() {
  static const std::vector<std::string> types = {"sgd", "adam", "adamw", "lamb", "adafactor", "lion"};
  return types;
}

OptimizerConfig read_optimizer_config(ConfigReader& r) {
  OptimizerConfig c;
  r.explain({{"type", "the update rule"},
             {"no_decay", "parameters without weight decay, by name pattern (* any text): [\"*.bias\", \"*norm*\"]"},
             {"lr_multipliers", "per-pattern factors of the lr: {\"blocks.0.*\": 0.5}"},
             {"stochastic_rounding", "bf16/fp16 parameters are rounded stochastically from the f32 master weights"},
             {"seed", "seeds the stochastic rounding"},
             {"lr", "the peak learning rate, which the schedule scales"},
             {"weight_decay", "adam, sgd: L2, added to the gradient; lamb: in the update; the others: decoupled"},
             {"betas", "decay rates of the first and second moment averages"},
             {"eps", "added to the second moment's root in the denominator"}});
  c.type = r.choice("type", optimizer_types(), "adamw");
  c.common.groups = group_rules(r);
  c.common.stochastic_rounding = r.boolean("stochastic_rounding", false);
  c.common.seed = static_cast<uint64_t>(r.integer("seed", static_cast<int64_t>(c.common.seed), Range::at_least(0)));
  const Range non_negative = Range::at_least(0), positive = Range::greater_than(0);
  if (c.type == "sgd") {
    SgdOptions o;
    r.explain({{"momentum", "the velocity's decay; 0: plain SGD"},
               {"dampening", "share of the gradient left out of the velocity"},
               {"nesterov", "Nesterov momentum (needs momentum > 0 and dampening 0)"}});
    o.lr = r.number("lr", o.lr, non_negative);
    o.weight_decay = r.number("weight_decay", 0.0, non_negative);
    o.momentum = r.number("momentum", 0.0, non_negative);
    o.dampening = r.number("dampening", 0.0, Range::between(0, 1));
    o.nesterov = r.boolean("nesterov", false);
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      r.fail("nesterov", "nesterov needs momentum > 0 and dampening = 0");
    c.options = o;
  } else if (c.type == "adam" || c.type == "adamw") {
    AdamOptions o;
    o.decoupled = c.type == "adamw";
    r.explain({{"amsgrad", "divides by the largest second moment seen so far"}});
    o.lr = r.number("lr", o.lr, non_negative);
    const std::vector<double> b = betas(r, o.beta1, o.beta2);
    o.beta1 = b[0], o.beta2 = b[1];
    o.eps = r.number("eps", o.eps, positive);
    o.weight_decay = r.number("weight_decay", o.decoupled ? 0.01 : 0.0, non_negative);
    o.amsgrad = r.boolean("amsgrad", false);
    c.options = o;
  } else if (c.type == "lamb") {
    LambOptions o;
    r.explain({{"bias_correction", "corrects the moments' bias towards zero in early steps"}});
    o.lr = r.number("lr", o.lr, non_negative);
    const std::vector<double> b = betas(r, o.beta1, o.beta2);
    o.beta1 = b[0], o.beta2 = b[1];
    o.eps = r.number("eps", o.eps, positive);
    o.weight_decay = r.number("weight_decay", o.weight_decay, non_negative);
    o.bias_correction = r.boolean("bias_correction", true);
    c.options = o;
  } else if (c.type == "lion") {
    LionOptions o;
    r.explain({{"betas", "b1 mixes the momentum into the update's sign, b2 decays the momentum"}});
    o.lr = r.number("lr", o.lr, non_negative);
    const std::vector<double> b = betas(r, o.beta1, o.beta2);
    o.beta1 = b[0], o.beta2 = b[1];
    o.weight_decay = r.number("weight_decay", 0.0, non_negative);
    c.options = o;
  } else {
    AdafactorOptions o;
    r.explain({{"relative_step", "the step size is min(1e-2, 1/sqrt(step)) times lr; false: lr itself"},
               {"lr", "with relative_step a multiplier of the relative step, else the learning rate"},
               {"eps", "[eps1, eps2]: added to the squared gradient; the least parameter scale"},
               {"clip_threshold", "the update's root mean square is clipped to this"},
               {"decay_rate", "the second moment's decay is 1 - step^decay_rate"},
               {"beta1", "decay of a first moment; unset: none (saves memory)"},
               {"scale_parameter", "scales the step by the parameter's root mean square"},
               {"warmup_init", "the relative step grows as 1e-6 step at first (needs relative_step)"}});
    o.relative_step = r.boolean("relative_step", true);
    r.document("lr", "number >= 0", "1 with relative_step (a multiplier of the relative step), else 0.001");
    o.lr = r.number("lr", o.relative_step ? 1.0 : 1e-3, non_negative);
    const std::vector<double> eps = numbers(
        r, "eps", {o.eps1, o.eps2}, [](double e) { return e > 0; }, "> 0");
    o.eps1 = eps[0], o.eps2 = eps[1];
    o.clip_threshold = r.number("clip_threshold", o.clip_threshold, positive);
    o.decay_rate = r.number("decay_rate", o.decay_rate, Range::less_than(0));
    if (const std::optional<double> b1 = r.number_if_given("beta1", Range::at_least(0))) {
      if (!valid_beta(*b1)) r.fail("beta1", "must be in [0, 1), got " + std::to_string(*b1));
      o.beta1 = *b1;
    }
    o.weight_decay = r.number("weight_decay", 0.0, non_negative);
    o.scale_parameter = r.boolean("scale_parameter", true);
    o.warmup_init = r.boolean("warmup_init", false);
    if (o.warmup_init && !o.relative_step) r.fail("warmup_init", "warmup_init needs relative_step: true");
    c.options = o;
  }
  r.check_no_unknown_keys();
  return c;
}

void check_group_patterns(ConfigReader& r, const std::vector<std::string>& parameter_names) {
  check_patterns_match(r, read_optimizer_config(r).common.groups, parameter_names);
}

bool state_shardable(const std::string& type) { return type != "lamb" && type != "adafactor"; }

std::unique_ptr<Optimizer> make_optimizer(ConfigReader& r, layers::FlatParameters& flat, const Shard& shard) {
  OptimizerConfig c = read_optimizer_config(r);
  check_patterns_match(r, c.common.groups, parameter_names(flat));
  if (shard.count > 1 && !state_shardable(c.type))
    r.fail("type", c.type + " cannot run with distributed.zero: 1 (its state sharded over " +
                       std::to_string(shard.count) + " ranks): a shard may cut through a parameter, and " + c.type +
                       " needs whole parameters (per-parameter trust ratios or factored moments); use sgd, adam, "
                       "adamw or lion, or distributed.zero: 0");
  c.common.shard = shard;
  return std::visit(
      [&](const auto& o) -> std::unique_ptr<Optimizer> {
        using Options = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<Options, SgdOptions>) {
          return std::make_unique<Sgd>(flat, o, c.common);
        } else if constexpr (std::is_same_v<Options, AdamOptions>) {
          return std::make_unique<Adam>(flat, o, c.common);
        } else if constexpr (std::is_same_v<Options, LambOptions>) {
          return std::make_unique<Lamb>(flat, o, c.common);
        } else if constexpr (std::is_same_v<Options, LionOptions>) {
          return std::make_unique<Lion>(flat, o, c.common);
        } else {
          static_assert(std::is_same_v<Options, AdafactorOptions>);
          return std::make_unique<Adafactor>(flat, o, c.common);
        }
      },
      c.options);
}

}  // namespace gau::optim
