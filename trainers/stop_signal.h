#pragma once
// SIGINT and SIGTERM during training: the first asks the loop to stop after the step it is in
// (it then writes a checkpoint and exits 0); a second one, for a user who does not want to
// wait, ends the process at once with the usual 128 + signal status. A second signal within a
// second of the first counts as the same request (`timeout -s INT` sends it to the process and
// to its process group, so it arrives twice). The first signal is acknowledged on stderr at once,
// with how to stop sooner.
//
//   StopSignals signals;                    // installs the handlers; the destructor restores them
//   for (...) { step(); if (signals.requested()) { checkpoint(); break; } }
#include <csignal>

namespace gau::trainers {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // Whether a stop was asked for since construction.
  bool requested() const;
  // The signal that asked (SIGINT or SIGTERM), or 0.
  int signal() const;
  // "SIGINT", or "SIGTERM" otherwise: a stop another rank asked for is the SIGTERM mpirun forwards.
  const char* name() const { return signal() == SIGINT ? "SIGINT" : "SIGTERM"; }

 private:
  struct sigaction previous_int_ {}, previous_term_ {};
};

}  // namespace gau::trainers
