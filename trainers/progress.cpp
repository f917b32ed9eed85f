#include "trainers/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"

namespace gau::trainers {

namespace {

std::string printf_string(const char* fmt, auto... args) {
  char buf[128];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string loss_text(double loss) { return std::isfinite(loss) ? printf_string("%.4f", loss) : "nan"; }

int terminal_width(std::FILE* out) {
  struct winsize ws {};
  if (::ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  const int64_t days = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (days > 0)
    return printf_string("%lldd %02lld:%02lld:%02lld", static_cast<long long>(days), static_cast<long long>(h),
                         static_cast<long long>(m), static_cast<long long>(sec));
  if (h > 0)
    return printf_string("%lld:%02lld:%02lld", static_cast<long long>(h), static_cast<long long>(m),
                         static_cast<long long>(sec));
  return printf_string("%lld:%02lld", static_cast<long long>(m), static_cast<long long>(sec));
}

std::string format_rate(double r) {
  if (!std::isfinite(r) || r < 0) return "? tok/s";
  if (r >= 999.5e3) return printf_string("%.2fM tok/s", r / 1e6);
  if (r >= 999.5) return printf_string("%.1fk tok/s", r / 1e3);
  return printf_string("%.0f tok/s", r);
}

std::string format_progress_log(const ProgressLine& p) {
  std::string s = "step " + std::to_string(p.step);
  if (p.total > 0) s.append("/").append(std::to_string(p.total));
  s += " | loss " + loss_text(p.loss) + " | " + format_rate(p.tokens_per_s) + " | elapsed " +
       format_duration(p.elapsed_s);
  if (p.total > 0) s += " | ETA " + format_duration(p.eta_s);
  return s;
}

std::string format_progress_bar(const ProgressLine& p, int width) {
  const std::string count =
      p.total > 0 ? std::to_string(p.step) + "/" + std::to_string(p.total) : "step " + std::to_string(p.step);
  std::string tail =
      " loss " + loss_text(p.loss) + " | " + format_rate(p.tokens_per_s) + " | " + format_duration(p.elapsed_s);
  if (p.total <= 0) return count + tail;
  tail.append("<").append(format_duration(p.eta_s));
  const double frac = std::clamp(static_cast<double>(p.step) / static_cast<double>(p.total), 0.0, 1.0);
  const std::string percent = printf_string(" %3d%%", static_cast<int>(frac * 100));
  // count + " [" + bar + "]" + percent + tail
  const int bar = width - static_cast<int>(count.size() + 3 + percent.size() + tail.size());
  if (bar < 10) return count + percent + tail;
  const int filled = static_cast<int>(frac * bar);
  std::string b(static_cast<size_t>(filled), '=');
  if (filled < bar) b += '>';
  b.resize(static_cast<size_t>(bar), ' ');
  return count + " [" + b + "]" + percent + tail;
}

RateMeter::RateMeter(int window) : window_(static_cast<size_t>(std::max(window, 1)) + 1) {}

void RateMeter::add(double time_s, int64_t step, int64_t tokens) {
  tokens_ += tokens;
  samples_.push_back({time_s, step, tokens_});
  while (samples_.size() > window_) samples_.pop_front();
}

double RateMeter::steps_per_s() const {
  if (samples_.size() < 2) return 0;
  const double dt = samples_.back().time - samples_.front().time;
  return dt > 0 ? static_cast<double>(samples_.back().step - samples_.front().step) / dt : 0;
}

double RateMeter::tokens_per_s() const {
  if (samples_.size() < 2) return 0;
  const double dt = samples_.back().time - samples_.front().time;
  return dt > 0 ? static_cast<double>(samples_.back().tokens - samples_.front().tokens) / dt : 0;
}

double eta_seconds(int64_t step, int64_t total, double steps_per_s) {
  if (total <= 0 || !(steps_per_s > 0)) return -1;
  return static_cast<double>(std::max<int64_t>(total - step, 0)) / steps_per_s;
}

Progress::Progress(int64_t total_steps, int64_t start_step, ProgressOptions options)
    : total_(total_steps), options_(options), rate_(options.window) {
  GAU_CHECK(options_.out != nullptr, "Progress: no output stream");
  GAU_CHECK(options_.log_every > 0, "Progress: log_every must be positive, got ", options_.log_every);
  tty_ = options_.tty.value_or(::isatty(fileno(options_.out)) != 0);
  start_ = now();
  rate_.add(start_, start_step, 0);
}

double Progress::now() const {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

ProgressLine Progress::line(int64_t step, double loss) const {
  const double elapsed = now() - start_;
  double eta = eta_seconds(step, total_, rate_.steps_per_s());
  // A time limit that comes first ends the run then.
  if (options_.time_limit_s > 0 && eta >= 0) eta = std::min(eta, std::max(options_.time_limit_s - elapsed, 0.0));
  return {step, total_, loss, rate_.tokens_per_s(), elapsed, eta};
}

void Progress::update(int64_t step, double loss, int64_t tokens) {
  const double t = now();
  rate_.add(t, step, tokens);
  if (!tty_) {
    if (step % options_.log_every == 0 || step == total_) {
      std::fprintf(options_.out, "%s\n", format_progress_log(line(step, loss)).c_str());
      std::fflush(options_.out);
    }
    return;
  }
  // Redrawing faster than the eye reads only costs the terminal; the last step always shows.
  if (last_draw_ >= 0 && t - last_draw_ < 0.1 && step != total_) return;
  last_draw_ = t;
  draw(format_progress_bar(line(step, loss), terminal_width(options_.out) - 1));
}

void Progress::draw(const std::string& text) {
  // \r returns to the line's start, \x1b[K clears what a longer previous line left.
  std::fprintf(options_.out, "\r%s\x1b[K", text.c_str());
  std::fflush(options_.out);
  bar_shown_ = true;
}

void Progress::print(const std::string& text) {
  if (tty_ && bar_shown_) std::fprintf(options_.out, "\r\x1b[K");
  std::fprintf(options_.out, "%s\n", text.c_str());
  std::fflush(options_.out);
  last_draw_ = -1;  // redraw the bar at the next update
  bar_shown_ = false;
}

void Progress::finish() {
  if (tty_ && bar_shown_) std::fprintf(options_.out, "\n");
  std::fflush(options_.out);
  bar_shown_ = false;
}

}  // namespace gau::trainers
