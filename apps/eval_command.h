#pragma once
// `gau eval RUN_DIR|CHECKPOINT [--split val|train] [--batches N] [--set data.key=value]`: the loss,
// perplexity and bits per byte (or per token) of a trained model on a split of its data, or of
// other data given with --set data.path=...
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_eval_command(CLI::App& app);

}  // namespace gau::apps
