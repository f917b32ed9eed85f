#include "apps/plot_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "trainers/metrics_reader.h"
#include "trainers/plot.h"

namespace gau::apps {

namespace {

namespace fs = std::filesystem;

struct PlotArgs {
  std::vector<std::string> runs;
  std::string out;
};

// RUN_DIR/plots, or beside a metrics file given directly.
fs::path default_out_dir(const fs::path& run_or_file) {
  return (fs::is_directory(run_or_file) ? run_or_file : run_or_file.parent_path()) / "plots";
}

void run_plot(const PlotArgs& args) {
  std::vector<trainers::RunMetrics> runs;
  for (const std::string& r : args.runs) {
    runs.push_back(trainers::read_metrics(r));
    if (runs.back().cut_line > 0)
      std::cerr << "gau plot: " << runs.back().file.string() << ":" << runs.back().cut_line
                << " was cut off mid-write (the run was stopped there); plotting the records before it\n";
  }
  const fs::path out = args.out.empty() ? default_out_dir(args.runs.front()) : fs::path(args.out);
  for (const fs::path& png : trainers::render_plots(runs, {.out_dir = out})) std::cout << png.string() << "\n";
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("plot", "Plot runs' metrics.jsonl as PNGs with gnuplot (several runs overlay)");
  auto args = std::make_shared<PlotArgs>();
  cmd->add_option("runs", args->runs, "run directories (holding metrics.jsonl) or metrics .jsonl files")->required();
  cmd->add_option("--out", args->out, "where the PNGs go; default: the first run's plots/ directory");
  cmd->footer(
      "Writes loss.png, bits_per_byte.png, lr.png, throughput.png and loss_time.png (those with data),\n"
      "plus plots.gp and the .dat files it reads, and prints the PNGs' paths. Each run is a line labelled\n"
      "with its directory's name (a .jsonl file's own name when it is not metrics.jsonl).\n"
      "\n"
      "Examples:\n"
      "  gau plot runs/default                                   runs/default/plots/*.png\n"
      "  gau plot runs/default runs/default_torch --out cmp      gau against bench/default_run_torch.py\n"
      "  gau plot runs/gau_small runs/flash_small --out cmp      GAU against FLASH\n"
      "  gau plot /tmp/torch.jsonl                               a metrics file anywhere: /tmp/plots/*.png\n"
      "\n"
      "Needs gnuplot (Debian: sudo apt-get install gnuplot-nox).");
  cmd->callback([args] { run_plot(*args); });
}

}  // namespace gau::apps
