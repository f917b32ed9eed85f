// The faults of a multi-rank run, end to end: each test starts `mpirun -np 2` on fault_rank.cpp,
// where rank 1 stops responding, dies of SIGKILL or aborts, and checks that the whole run exits
// non-zero, with the expected message, well within a bound (the collective timeout plus the
// launcher's start and tear-down: a hang would instead run into the bound).
#include <gtest/gtest.h>

#include <string>

#include "tests/support/files.h"

namespace gau {
namespace {

test::TimedCommand run_ranks(const std::string& scenario, double timeout_s) {
  // `timeout` from coreutils bounds a run that would hang, so that a regression fails the test
  // instead of stalling CI.
  const std::string command = "timeout -s KILL 60 " GAU_MPIEXEC " -np 2 " GAU_MPIEXEC_FLAGS " " GAU_FAULT_RANK " " +
                              scenario + " " + std::to_string(timeout_s);
  return test::run_command_timed(command);
}

// Starting and ending 2 ranks takes about a second here; far more on a loaded CI machine.
constexpr double kLauncherSlack_s = 6;

TEST(MpiFaults, AHealthyRunExitsZero) {
  test::TimedCommand r = run_ranks("ok", 10);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("rank 0: done"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank 1: done"), std::string::npos) << r.output;
}

TEST(MpiFaults, ARankThatStopsRespondingMakesTheOthersAbortAtTheTimeout) {
  const double timeout_s = 2;
  test::TimedCommand r = run_ranks("hang", timeout_s);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_GE(r.seconds, timeout_s) << r.output;
  EXPECT_LT(r.seconds, timeout_s + kLauncherSlack_s) << r.output;
  EXPECT_NE(r.output.find("gau: rank 0 of 2 aborts the run: all_reduce(sum) of f32[1024] (4 KiB) did not complete "
                          "within its timeout of 2 s"),
            std::string::npos)
      << r.output;
}

TEST(MpiFaults, ARankKilledMidRunMakesTheOthersExit) {
  const double timeout_s = 3;
  test::TimedCommand r = run_ranks("sigkill", timeout_s);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_LT(r.seconds, timeout_s + kLauncherSlack_s) << r.output;
  EXPECT_EQ(r.output.find("rank 0: done"), std::string::npos) << r.output;
}

TEST(MpiFaults, ARankThatAbortsEndsTheRunAtOnce) {
  const double timeout_s = 30;  // the others must not wait for it
  test::TimedCommand r = run_ranks("abort", timeout_s);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_LT(r.seconds, kLauncherSlack_s) << r.output;
  EXPECT_NE(r.output.find("gau: rank 1 of 2 aborts the run: raised during backward (fault test)"), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace gau
