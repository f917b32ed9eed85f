#include "trainers/stop_signal.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "core/error.h"

namespace gau::trainers {

namespace {

// A signal this soon after the first is a copy of it, not a second request: coreutils' timeout
// and some launchers signal the process and then its process group, so it arrives twice within
// microseconds, where a user's second Ctrl-C comes a good while after the first.
constexpr int64_t kSameRequestNs = 1'000'000'000;

// Only async-signal-safe work in the handler: clock_gettime, atomics, write and _exit.
std::atomic<int> stop_signal_number{0};
std::atomic<int64_t> first_signal_ns{0};

int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Said at once, because the stop may be a while coming: a step at long context, or setup's
// sentencepiece training, which runs inside the library and cannot be cut short.
template <size_t N>
void say(const char (&message)[N]) {
  [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, message, N - 1);
}

void on_stop_signal(int sig) {
  const int64_t now = std::max<int64_t>(monotonic_ns(), 1);  // 0 means "no signal yet"
  int64_t none = 0;
  if (first_signal_ns.compare_exchange_strong(none, now)) {
    stop_signal_number = sig;
    if (sig == SIGINT)
      say("\ngau: SIGINT: stopping once the current step, evaluation or setup is done; send it again to stop now\n");
    else
      say("\ngau: SIGTERM: stopping once the current step, evaluation or setup is done; send it again to stop now\n");
    return;
  }
  if (now - none >= kSameRequestNs) _exit(128 + sig);  // `none` now holds the first one's time
}

}  // namespace

StopSignals::StopSignals() {
  stop_signal_number = 0;
  first_signal_ns = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a read or write of the data or a checkpoint is not cut short by the signal.
  action.sa_flags = SA_RESTART;
  GAU_CHECK(sigaction(SIGINT, &action, &previous_int_) == 0 && sigaction(SIGTERM, &action, &previous_term_) == 0,
            "cannot install the SIGINT/SIGTERM handlers");
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

bool StopSignals::requested() const { return first_signal_ns.load() != 0; }

int StopSignals::signal() const { return stop_signal_number.load(); }

}  // namespace gau::trainers
