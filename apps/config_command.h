#pragma once
// `gau config CONFIG [--set key.path=value ...] [--dump]`: loads a config (bases, overrides),
// checks it against the schema and says so, or prints it fully resolved. `gau config --keys
// [SECTION[.TYPE]]` documents the keys of every section (trainers/config/schema.h).
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_config_command(CLI::App& app);

}  // namespace gau::apps
