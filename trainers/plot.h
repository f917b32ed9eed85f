#pragma once
// Plots of training runs from their metrics.jsonl (trainers/metrics_reader.h), drawn by gnuplot
// run as a program (Debian's gnuplot-nox). Several runs overlay: one line per run, labelled with
// its name and in the same colour in every plot, which is how a gau run is compared with a
// PyTorch run (bench/default_run_torch.py) or GAU with FLASH.
//
//   std::vector<RunMetrics> runs = {read_metrics("runs/default"), read_metrics("runs/default_torch")};
//   for (const std::filesystem::path& png : render_plots(runs, {.out_dir = "runs/default/plots"})) ...
//
// The PNGs, each drawn when some run has data for it:
//   loss.png           train loss against step; eval loss as points
//   bits_per_byte.png  eval bits per byte against step
//   lr.png             learning rate against step
//   throughput.png     tokens/s against step
//   loss_time.png      train and eval loss against minutes since the run began
// out_dir keeps what gnuplot read, plots.gp and a .dat file per run and record kind, so a plot can
// be restyled by editing plots.gp and running `gnuplot plots.gp` there.
//
// metrics.jsonl holds the logged steps, the first at step log_every, not the run's start. So for
// loss_time.png a run begins at its step-0 record's time when it has one, else at its first train
// record's time less that record's steps at the pace of its first two train records.
#include <filesystem>
#include <string>
#include <vector>

#include "trainers/metrics_reader.h"

namespace gau::trainers {

struct PlotOptions {
  std::filesystem::path out_dir;    // created when missing
  std::string gnuplot = "gnuplot";  // the program: a path, or a name looked up on PATH
};

// Writes the data and plots.gp into options.out_dir, runs gnuplot and returns the PNGs written.
// Throws when gnuplot is not found (saying to install gnuplot-nox), when it fails (with its
// output), and when no run has a record to plot.
std::vector<std::filesystem::path> render_plots(const std::vector<RunMetrics>& runs, const PlotOptions& options);

// The Unix time at which `run` began (see above); NaN when it has no timed record.
double run_start_time(const RunMetrics& run);

}  // namespace gau::trainers
