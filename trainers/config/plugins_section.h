#pragma once
// The plugins: key: shared libraries of users' layers to load before the model is built
// (layers/plugin.h).
//
//   plugins: [build/libgau_custom.so, /opt/layers/libmore.so]
//
// A relative path is relative to the folder of the config file that writes it (load_config makes
// it absolute as it reads the file, as it does for base:), so a config and its plugin can move
// together; a --set override's is relative to the working directory. The resolved config, which
// runs and checkpoints store, holds the absolute paths, so `gau eval` and `gau generate` load the
// same plugins from anywhere.
#include <yaml-cpp/yaml.h>

#include <memory>
#include <vector>

#include "layers/config_reader.h"
#include "layers/plugin.h"

namespace gau::config {

// Loads every plugin the config's top-level `plugins:` lists (none when absent). `origins`, when
// given, places errors at the entry's file:line:column; `named_in` names the source otherwise
// (a checkpoint's path).
std::vector<layers::LoadedPlugin> load_config_plugins(const YAML::Node& root,
                                                      const std::shared_ptr<const layers::ConfigOrigins>& origins,
                                                      const std::string& named_in = "");

}  // namespace gau::config
