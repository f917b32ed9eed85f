#pragma once
// Training progress: on a terminal, one line redrawn in place; otherwise (a log file, CI) a plain
// line every N steps.
//
//    120/1000 [=====>                  ]  12% loss 2.3456 | 12.3k tok/s | 1:23<10:05   (terminal)
//   step 120/1000 | loss 2.3456 | 12.3k tok/s | elapsed 1:23 | ETA 10:05              (log)
//
// The rate and so the ETA are smoothed over the last steps (RateMeter), so one slow step (an
// eval, a checkpoint) does not swing them. The formatting is pure and unit-tested; Progress only
// adds the clock and the terminal.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>

namespace gau::trainers {

struct ProgressLine {
  int64_t step = 0;
  int64_t total = 0;  // 0 when unknown: no bar, percentage or ETA
  double loss = 0;
  double tokens_per_s = 0;
  double elapsed_s = 0;
  double eta_s = -1;  // negative when unknown
};

// The terminal line, fitted to `width` columns (the bar shrinks, and goes below 10 columns).
std::string format_progress_bar(const ProgressLine& p, int width);
// The log line.
std::string format_progress_log(const ProgressLine& p);
// "0:07", "1:23", "1:02:03", "3d 04:05:06"; "?" for a negative or non-finite duration.
std::string format_duration(double seconds);
// "950 tok/s", "12.3k tok/s", "4.56M tok/s".
std::string format_rate(double tokens_per_s);

// Steps and tokens per second over the last `window` updates.
class RateMeter {
 public:
  explicit RateMeter(int window = 20);
  // At time `time_s` step `step` finished, having processed `tokens` tokens.
  void add(double time_s, int64_t step, int64_t tokens);
  // 0 until two updates are in.
  double steps_per_s() const;
  double tokens_per_s() const;

 private:
  struct Sample {
    double time;
    int64_t step;
    int64_t tokens;  // cumulative
  };
  size_t window_;
  std::deque<Sample> samples_;
  int64_t tokens_ = 0;
};

// Seconds to reach `total` from `step` at `steps_per_s`; -1 when the rate or total is unknown.
double eta_seconds(int64_t step, int64_t total, double steps_per_s);

struct ProgressOptions {
  int log_every = 10;       // steps between log lines when not on a terminal
  std::optional<bool> tty;  // default: isatty(fileno(out))
  std::FILE* out = stderr;
  int window = 20;  // steps the rate is smoothed over
  double time_limit_s = 0;  // the run stops after this long (train.max_time_minutes); 0: no limit
};

class Progress {
 public:
  // `start_step` is where a resumed run starts, so the elapsed time and rate cover this run only.
  Progress(int64_t total_steps, int64_t start_step = 0, ProgressOptions options = {});
  // Step `step` is done: `loss`, and `tokens` processed in it.
  void update(int64_t step, double loss, int64_t tokens);
  // A message (an eval result, a checkpoint) on its own line, above the bar.
  void print(const std::string& line);
  // Ends the bar's line.
  void finish();

 private:
  double now() const;
  ProgressLine line(int64_t step, double loss) const;
  void draw(const std::string& text);
  int64_t total_;
  ProgressOptions options_;
  bool tty_;
  double start_;
  double last_draw_ = -1;
  RateMeter rate_;
  bool bar_shown_ = false;
};

}  // namespace gau::trainers
