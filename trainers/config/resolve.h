#pragma once
// The resolved config: a loaded config checked against the schema, every section present and
// every default filled in, the model's as the layer registry filled it.
//
//   LoadedConfig c = load_config("configs/x.yaml", {"optim.lr=3e-4"});
//   YAML::Node resolved = resolve_config(c);
//   std::cout << dump_config(resolved);   // what `gau config configs/x.yaml --dump` prints
//
// The dump is a config itself: loading it again resolves to the same config.
#include <yaml-cpp/yaml.h>

#include <string>

#include "trainers/config/load.h"

namespace gau::config {

// Checks every section of `config` (a top-level key no section declares is an error with the
// nearest section name) and returns every declared section resolved, in reading order: plugins,
// model, data, optim, schedule, train, precision, distributed, logging, then any others by name.
// It loads the plugins the config lists first (trainers/config/plugins_section.h).
YAML::Node resolve_config(const LoadedConfig& config);

// A resolved config as YAML text, numbers in their shortest exact form.
std::string dump_config(const YAML::Node& resolved);

}  // namespace gau::config
