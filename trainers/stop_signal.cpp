#include "trainers/stop_signal.h"

#include <unistd.h>

#include <atomic>

#include "core/error.h"

namespace gau::trainers {

namespace {

// Only async-signal-safe work in the handler: an atomic store, and _exit for the second signal.
std::atomic<int> stop_signal_number{0};

void on_stop_signal(int sig) {
  if (stop_signal_number.exchange(sig) != 0) _exit(128 + sig);
}

}  // namespace

StopSignals::StopSignals() {
  stop_signal_number = 0;
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

bool StopSignals::requested() const { return stop_signal_number.load() != 0; }

int StopSignals::signal() const { return stop_signal_number.load(); }

}  // namespace gau::trainers
