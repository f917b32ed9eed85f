#pragma once
// `gau generate RUN_DIR|CHECKPOINT --prompt "..." [--max-tokens N --temperature T --top-k K
// --top-p P --seed S]`: text from a trained language model (trainers/generate.h).
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_generate_command(CLI::App& app);

}  // namespace gau::apps
