// gau plot's library: PNGs drawn by gnuplot from metrics.jsonl (skipped where gnuplot is not
// installed), the run's start for the time axis, and the errors around the gnuplot program.
#include "trainers/plot.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>

#include "core/error.h"
#include "tests/support/files.h"
#include "trainers/metrics.h"
#include "trainers/subprocess.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;

// A run directory `name` under `root` with a short training curve, and evaluations when asked.
fs::path write_run(const fs::path& root, const std::string& name, double loss_scale, bool with_eval) {
  const fs::path run = root / name;
  fs::create_directories(run);
  MetricsWriter m(run, {.tensorboard = false});
  for (int64_t step = 10; step <= 50; step += 10) {
    m.log_train({.step = step,
                 .loss = loss_scale * 5.0 / std::sqrt(static_cast<double>(step)),
                 .lr = 1e-4 * step,
                 .tokens_per_s = 4000.0 + step});
    if (with_eval && step % 20 == 0)
      m.log_eval(step, "val",
                 {{"loss", loss_scale * 6.0 / std::sqrt(static_cast<double>(step))}, {"bits_per_byte", 2.0}});
  }
  return run;
}

std::string render_error(const std::vector<RunMetrics>& runs, const PlotOptions& options) {
  try {
    render_plots(runs, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Plot, TwoRunsOverlayInEveryPng) {
  if (!find_program("gnuplot")) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  test::TempDir dir;
  const std::vector<RunMetrics> runs = {read_metrics(write_run(dir.path(), "gau", 1.0, true)),
                                        read_metrics(write_run(dir.path(), "torch", 1.1, true))};
  const fs::path out = dir.path() / "plots";
  const std::vector<fs::path> pngs = render_plots(runs, {.out_dir = out});
  const std::vector<std::string> expected = {"loss.png", "bits_per_byte.png", "lr.png", "throughput.png",
                                             "loss_time.png"};
  ASSERT_EQ(pngs.size(), expected.size());
  for (size_t i = 0; i < pngs.size(); ++i) {
    EXPECT_EQ(pngs[i], out / expected[i]);
    EXPECT_EQ(test::read_bytes(pngs[i]).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << pngs[i];
  }
  const std::string script = test::read_bytes(out / "plots.gp");
  EXPECT_NE(script.find("title 'gau'"), std::string::npos) << script;
  EXPECT_NE(script.find("title 'torch val'"), std::string::npos) << script;
}

TEST(Plot, OnlyPlotsWithDataAreDrawn) {
  if (!find_program("gnuplot")) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  test::TempDir dir;
  const std::vector<fs::path> pngs =
      render_plots({read_metrics(write_run(dir.path(), "no_eval", 1.0, false))}, {.out_dir = dir.path() / "p"});
  for (const fs::path& png : pngs) EXPECT_NE(png.filename(), "bits_per_byte.png");
  EXPECT_EQ(pngs.size(), 4u);
}

TEST(Plot, MissingGnuplotSaysWhatToInstall) {
  test::TempDir dir;
  const std::vector<RunMetrics> runs = {read_metrics(write_run(dir.path(), "gau", 1.0, true))};
  const std::string on_path = render_error(runs, {.out_dir = dir.path() / "p", .gnuplot = "gau-test-no-gnuplot"});
  EXPECT_NE(on_path.find("is not on PATH"), std::string::npos) << on_path;
  EXPECT_NE(on_path.find("apt-get install gnuplot-nox"), std::string::npos) << on_path;
  const std::string by_path = render_error(runs, {.out_dir = dir.path() / "p", .gnuplot = "/nonexistent/gnuplot"});
  EXPECT_NE(by_path.find("is not an executable file"), std::string::npos) << by_path;
  EXPECT_FALSE(fs::exists(dir.path() / "p")) << "nothing is written before gnuplot is found";
}

TEST(Plot, GnuplotFailureShowsItsOutput) {
  test::TempDir dir;
  const fs::path fake = dir.path() / "fake-gnuplot";
  test::write_bytes(fake, "#!/bin/sh\necho \"cannot draw $1\" >&2\nexit 3\n");
  ::chmod(fake.c_str(), 0755);
  const std::string e = render_error({read_metrics(write_run(dir.path(), "gau", 1.0, true))},
                                     {.out_dir = dir.path() / "p", .gnuplot = fake.string()});
  EXPECT_NE(e.find("failed (exit status 3)"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot draw plots.gp"), std::string::npos) << e;
}

TEST(Plot, RunStartsAtStepZeroOrBeforeTheFirstRecord) {
  RunMetrics run;
  run.train = {{10, 110.0, 2.0, 1e-3, 1e3}, {20, 120.0, 1.9, 1e-3, 1e3}, {30, 135.0, 1.8, 1e-3, 1e3}};
  EXPECT_DOUBLE_EQ(run_start_time(run), 100.0) << "10 steps at the pace of steps 10..20";
  run.eval = {{0, 95.0, "val", 5.5, 8.0}};
  EXPECT_DOUBLE_EQ(run_start_time(run), 95.0) << "a step-0 record is the start";
  EXPECT_TRUE(std::isnan(run_start_time(RunMetrics{})));
}

}  // namespace
}  // namespace gau::trainers
