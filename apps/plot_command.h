#pragma once
// `gau plot RUN_DIR|METRICS_JSONL ... [--out DIR]`: PNGs of loss, bits per byte, learning rate and
// throughput against step, and loss against wall-clock time, drawn by gnuplot from each run's
// metrics.jsonl (trainers/plot.h). Several runs overlay in the same plots.
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_plot_command(CLI::App& app);

}  // namespace gau::apps
