#pragma once
// `gau train CONFIG [--set key.path=value ...] [--run-dir DIR]` and `gau train --resume RUN_DIR`:
// trains the model a config describes (trainers/trainer.h), then prints the validation figures,
// a sample and where the run's files are.
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_train_command(CLI::App& app);

}  // namespace gau::apps
