#include "trainers/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "layers/config_reader.h"
#include "trainers/subprocess.h"

namespace gau::trainers {

namespace fs = std::filesystem;

namespace {

// Columns of the .dat files, 1-based as gnuplot's `using` counts them.
enum TrainColumn { kTrainStep = 1, kTrainMinutes, kTrainLoss, kTrainLr, kTrainTokensPerS };
enum EvalColumn { kEvalStep = 1, kEvalMinutes, kEvalLoss, kEvalBitsPerByte };

struct Series {
  std::string file;  // in the output directory
  int x = 0, y = 0;  // columns
  std::string title;
  int color = 1;        // gnuplot's line type: one per run
  bool points = false;  // eval records: points joined by a dashed line; train: a line
};

struct Plot {
  std::string png, title, xlabel, ylabel;
  std::string y_format;
  std::vector<Series> series;
};

enum PlotIndex { kLossPlot, kBitsPerBytePlot, kLrPlot, kThroughputPlot, kLossTimePlot };

std::vector<Plot> empty_plots() {
  const std::string loss = "loss (nats per token)";
  return {{"loss.png", "loss", "step", loss, "%g", {}},
          {"bits_per_byte.png", "validation bits per byte", "step", "bits per byte", "%g", {}},
          {"lr.png", "learning rate", "step", "lr", "%.1e", {}},
          {"throughput.png", "throughput", "step", "tokens/s", "%g", {}},
          {"loss_time.png", "loss against wall-clock time", "minutes since the run began", loss, "%g", {}}};
}

std::string number_text(double v) {
  if (!std::isfinite(v)) return "NaN";  // `set datafile missing 'NaN'`: no point there
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

// A gnuplot single-quoted string, in which a quote is written twice.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  GAU_CHECK(out.good(), "gau plot: cannot write ", path.string());
}

template <typename Record, typename Field>
bool any_finite(const std::vector<Record>& records, Field field) {
  for (const Record& r : records)
    if (std::isfinite(r.*field)) return true;
  return false;
}

double minutes_since(double time, double start) { return (time - start) / 60; }

// Writes run `index`'s .dat files into `dir` and adds its series to `plots`.
void add_run(const RunMetrics& run, int index, const fs::path& dir, std::vector<Plot>& plots) {
  const int color = index + 1;
  const double start = run_start_time(run);
  const std::string prefix = "run" + std::to_string(index);
  if (!run.train.empty()) {
    const std::string file = prefix + "_train.dat";
    std::string text = "# " + run.file.string() + ": step minutes loss lr tokens_per_s\n";
    for (const TrainRecord& r : run.train)
      text += std::to_string(r.step) + " " + number_text(minutes_since(r.time, start)) + " " + number_text(r.loss) +
              " " + number_text(r.lr) + " " + number_text(r.tokens_per_s) + "\n";
    write_text(dir / file, text);
    if (any_finite(run.train, &TrainRecord::loss)) {
      plots[kLossPlot].series.push_back({file, kTrainStep, kTrainLoss, run.label, color, false});
      if (std::isfinite(start))
        plots[kLossTimePlot].series.push_back({file, kTrainMinutes, kTrainLoss, run.label, color, false});
    }
    if (any_finite(run.train, &TrainRecord::lr))
      plots[kLrPlot].series.push_back({file, kTrainStep, kTrainLr, run.label, color, false});
    if (any_finite(run.train, &TrainRecord::tokens_per_s))
      plots[kThroughputPlot].series.push_back({file, kTrainStep, kTrainTokensPerS, run.label, color, false});
  }
  std::vector<std::string> splits;  // in order of first appearance
  for (const EvalRecord& r : run.eval)
    if (std::find(splits.begin(), splits.end(), r.split) == splits.end()) splits.push_back(r.split);
  for (size_t k = 0; k < splits.size(); ++k) {
    std::vector<EvalRecord> records;
    for (const EvalRecord& r : run.eval)
      if (r.split == splits[k]) records.push_back(r);
    const std::string file = prefix + "_eval" + std::to_string(k) + ".dat";
    std::string text = "# " + run.file.string() + ", split " + splits[k] + ": step minutes loss bits_per_byte\n";
    for (const EvalRecord& r : records)
      text += std::to_string(r.step) + " " + number_text(minutes_since(r.time, start)) + " " + number_text(r.loss) +
              " " + number_text(r.bits_per_byte) + "\n";
    write_text(dir / file, text);
    const std::string title = run.label + " " + splits[k];
    if (any_finite(records, &EvalRecord::loss)) {
      plots[kLossPlot].series.push_back({file, kEvalStep, kEvalLoss, title, color, true});
      if (std::isfinite(start))
        plots[kLossTimePlot].series.push_back({file, kEvalMinutes, kEvalLoss, title, color, true});
    }
    if (any_finite(records, &EvalRecord::bits_per_byte))
      plots[kBitsPerBytePlot].series.push_back({file, kEvalStep, kEvalBitsPerByte, title, color, true});
  }
}

std::string gnuplot_script(const std::vector<Plot>& plots) {
  std::ostringstream gp;
  gp << "# Written by gau plot: `gnuplot plots.gp` here redraws the PNGs from the .dat files.\n"
     << "set terminal pngcairo size 960,600 noenhanced font ',11'\n"
     << "set datafile missing 'NaN'\n"
     << "set grid\n"
     << "set key outside right top\n"  // never over a curve
     << "set offsets graph 0, 0, 0.05, 0.05\n";
  for (const Plot& p : plots) {
    gp << "\nset output " << quoted(p.png) << "\nset title " << quoted(p.title) << "\nset xlabel " << quoted(p.xlabel)
       << "\nset ylabel " << quoted(p.ylabel) << "\nset format y " << quoted(p.y_format) << "\nplot ";
    for (size_t i = 0; i < p.series.size(); ++i) {
      const Series& s = p.series[i];
      gp << (i ? ", \\\n     " : "") << quoted(s.file) << " using " << s.x << ":" << s.y
         << (s.points ? " with linespoints pt 7 ps 1 dt 2" : " with lines") << " lw 2 lc " << s.color << " title "
         << quoted(s.title);
    }
    gp << "\n";
  }
  gp << "unset output\n";
  return gp.str();
}

}  // namespace

double run_start_time(const RunMetrics& run) {
  for (const TrainRecord& r : run.train)
    if (r.step == 0 && std::isfinite(r.time)) return r.time;
  for (const EvalRecord& r : run.eval)
    if (r.step == 0 && std::isfinite(r.time)) return r.time;
  const TrainRecord* first = nullptr;
  for (const TrainRecord& r : run.train) {
    if (!std::isfinite(r.time)) continue;
    if (first == nullptr) {
      first = &r;
    } else if (r.step > first->step) {
      const double seconds_per_step = (r.time - first->time) / static_cast<double>(r.step - first->step);
      return first->time - static_cast<double>(first->step) * seconds_per_step;
    }
  }
  if (first != nullptr) return first->time;
  for (const EvalRecord& r : run.eval)
    if (std::isfinite(r.time)) return r.time;
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<fs::path> render_plots(const std::vector<RunMetrics>& runs, const PlotOptions& options) {
  GAU_CHECK(!runs.empty(), "gau plot: no runs to plot");
  const std::optional<fs::path> gnuplot = find_program(options.gnuplot);
  GAU_CHECK(gnuplot.has_value(), "gnuplot not found (", options.gnuplot,
            options.gnuplot.find('/') == std::string::npos ? " is not on PATH" : " is not an executable file",
            "): gau plot draws its PNGs with it; install it with `sudo apt-get install gnuplot-nox` "
            "(scripts/setup.sh installs it)");
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  GAU_CHECK(!ec && fs::is_directory(options.out_dir), "gau plot: cannot make the output directory ",
            options.out_dir.string(), " (--out names a directory for the PNGs): ",
            ec ? ec.message() : "a file of that name is in the way");
  std::vector<Plot> plots = empty_plots();
  for (size_t i = 0; i < runs.size(); ++i) add_run(runs[i], static_cast<int>(i), options.out_dir, plots);
  std::erase_if(plots, [](const Plot& p) { return p.series.empty(); });
  std::vector<std::string> names;
  for (const RunMetrics& r : runs) names.push_back(r.file.string());
  const std::string files = layers::comma_list(names);
  GAU_CHECK(!plots.empty(), "gau plot: nothing to plot in ", files, ": every loss, lr and throughput is null");

  write_text(options.out_dir / "plots.gp", gnuplot_script(plots));
  for (const Plot& p : plots) fs::remove(options.out_dir / p.png);  // so that each one found is new
  const ProgramResult result = run_program(*gnuplot, {"plots.gp"}, options.out_dir);
  GAU_CHECK(result.exit_code == 0, gnuplot->string(), " failed (exit status ", result.exit_code, ") on ",
            (options.out_dir / "plots.gp").string(), ":\n", result.output);
  std::vector<fs::path> written;
  for (const Plot& p : plots) {
    const fs::path png = options.out_dir / p.png;
    GAU_CHECK(fs::is_regular_file(png) && fs::file_size(png) > 0, gnuplot->string(), " did not write ", png.string(),
              result.output.empty() ? "" : ":\n", result.output);
    written.push_back(png);
  }
  return written;
}

}  // namespace gau::trainers
