#pragma once
// `gau demo [--steps N] [--lr X] [--seed S]`: a small end-to-end autograd run on synthetic data,
// printing the loss as it falls. It fails (exit 1) if training does not reduce the loss.
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_demo_command(CLI::App& app);

}  // namespace gau::apps
