#pragma once
// `gau info [--json]`: version, backends compiled in, GPUs found, BLAS and threads.
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_info_command(CLI::App& app);

}  // namespace gau::apps
