#include "trainers/config/resolve.h"

#include <algorithm>

#include "core/error.h"
#include "trainers/config/plugins_section.h"
#include "trainers/config/schedule_section.h"
#include "trainers/config/schema.h"
#include "trainers/config/yaml_text.h"

namespace gau::config {

namespace {

// The order a reader meets the sections in: what is trained, on what, how, then the run's
// settings. Only the dump's layout: a section missing here sorts after these, by name.
size_t reading_rank(const std::string& name) {
  static const std::vector<std::string> order = {"plugins", "model",     "data",        "optim",  "schedule",
                                                 "train",   "precision", "distributed", "logging"};
  return std::find(order.begin(), order.end(), name) - order.begin();
}

// Rules that join sections, checked once each section is: the schedule against train.steps and
// the optimizer's lr (a warmup longer than the run, a floor above the lr), so that `gau config`
// rejects what `gau train` would.
void check_across_sections(const YAML::Node& resolved) {
  const YAML::Node schedule = resolved["schedule"], optim = resolved["optim"], train = resolved["train"];
  if (!schedule || !optim || !optim["lr"] || !train || !train["steps"]) return;
  build_schedule(schedule, optim["lr"].as<double>(), train["steps"].as<int64_t>());
}

}  // namespace

YAML::Node resolve_config(const LoadedConfig& config) {
  layers::ConfigOriginsScope scope(config.origins);
  const Schema& schema = Schema::global();
  for (auto it = config.root.begin(); it != config.root.end(); ++it) {
    const std::string name = it->first.Scalar();
    if (schema.find(name) == nullptr) {
      const std::string pos = config.origins->position(name, it->first.Mark());
      const std::string hint = layers::nearest(name, schema.names());
      std::string valid;
      for (const std::string& s : schema.names()) valid += (valid.empty() ? "" : ", ") + s;
      GAU_FAIL(name, pos.empty() ? "" : " (" + pos + ")", ": unknown section '", name, "'",
               hint.empty() ? "" : "; did you mean '" + hint + "'?", "\nvalid sections: ", valid);
    }
  }
  // The model section builds layers through the registry, where a plugin's types must be by then.
  load_config_plugins(config.root, config.origins);
  std::vector<std::string> order = schema.names();
  std::stable_sort(order.begin(), order.end(),
                   [](const std::string& a, const std::string& b) { return reading_rank(a) < reading_rank(b); });

  YAML::Node resolved(YAML::NodeType::Map);
  for (const std::string& name : order) resolved[name] = schema.find(name)->resolve(section_of(config.root, name));
  check_across_sections(resolved);
  return resolved;
}

std::string dump_config(const YAML::Node& resolved) { return to_yaml(tidy_numbers(resolved)) + "\n"; }

}  // namespace gau::config
