#pragma once
// `--set key.path=value` overrides (trainers/config/load.h describes their syntax).
#include <yaml-cpp/yaml.h>

#include <string>

#include "trainers/config/sources.h"

namespace gau::config {

// Sets the value `text` ("optim.lr=3e-4") names in `root`, recording it in `sources`. Throws
// gau::Error starting "--set <text>: " for a malformed override or a path that cannot hold it.
void apply_override(YAML::Node root, const std::string& text, Sources& sources);

}  // namespace gau::config
