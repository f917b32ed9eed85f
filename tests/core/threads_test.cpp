// gau::set_num_threads: one call sets OpenMP and OpenBLAS, and bad counts are refused.
#include "core/threads.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cblas.h>

#include <string>

#include "core/ops/cpu/blas.h"
#include "tests/support/checks.h"

using namespace gau;

namespace {

// Restores both pools as they were, even when they disagreed before the test.
class ThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = thread_counts(); }
  void TearDown() override {
    omp_set_num_threads(saved_.openmp);
    openblas_set_num_threads(saved_.openblas);
  }
  ThreadCounts saved_;
};

// The number of threads a parallel region started here actually runs with.
int team_size() {
  int size = 0;
#pragma omp parallel
  {
#pragma omp single
    size = omp_get_num_threads();
  }
  return size;
}

}  // namespace

TEST_F(ThreadsTest, SetsOpenMPAndOpenBLASTogether) {
  for (int n : {1, 2, 1}) {
    set_num_threads(n);
    EXPECT_EQ(num_threads(), n);
    EXPECT_EQ(omp_get_max_threads(), n);
    EXPECT_EQ(openblas_get_num_threads(), n);
    EXPECT_TRUE(thread_counts().agree());
    EXPECT_EQ(team_size(), n);
  }
}

TEST_F(ThreadsTest, BringsDivergentPoolsTogether) {
  // OpenBLAS built on OpenMP (openblas_get_parallel() == 2) runs on OpenMP's own team, so its
  // count cannot differ from OpenMP's: there is nothing to bring together.
  if (openblas_get_parallel() == 2) GTEST_SKIP() << "OpenBLAS uses OpenMP's team: one pool";
  omp_set_num_threads(1);
  openblas_set_num_threads(2);
  ASSERT_FALSE(thread_counts().agree());
  set_num_threads(2);
  EXPECT_EQ(thread_counts().openmp, 2);
  EXPECT_EQ(thread_counts().openblas, 2);
}

TEST_F(ThreadsTest, RefusesCountsBelowOne) {
  set_num_threads(2);
  for (int n : {0, -3}) {
    const std::string msg = test::error_of([&] { set_num_threads(n); });
    EXPECT_NE(msg.find("at least 1, got " + std::to_string(n)), std::string::npos)
        << "set_num_threads(" << n << "): " << (msg.empty() ? "did not throw" : msg);
    EXPECT_EQ(thread_counts().openmp, 2);
    EXPECT_EQ(thread_counts().openblas, 2);
  }
}

TEST_F(ThreadsTest, RefusesMoreThreadsThanOpenBLASTakes) {
  set_num_threads(2);
  // OpenBLAS caps its count at the maximum it was built for (a few hundred at most).
  const int too_many = 1 << 20;
  const std::string msg = test::error_of([&] { set_num_threads(too_many); });
  EXPECT_NE(msg.find("when asked for " + std::to_string(too_many)), std::string::npos)
      << "set_num_threads(" << too_many << "): " << (msg.empty() ? "did not throw" : msg);
  EXPECT_EQ(thread_counts().openmp, 2);
  EXPECT_EQ(thread_counts().openblas, 2);
}

// The guard that keeps GEMMs single-threaded inside gau's own parallel loops must leave those loops
// their threads: OpenBLAS on OpenMP sets OpenMP's count too, which once left the CPU FLASH
// kernels running on one thread.
TEST_F(ThreadsTest, BlasSingleThreadLeavesOpenMPsTeamAlone) {
  set_num_threads(2);
  {
    ops::cpu::BlasSingleThread guard;
    EXPECT_EQ(openblas_get_num_threads(), 1);
    EXPECT_EQ(omp_get_max_threads(), 2);
    EXPECT_EQ(team_size(), 2);
  }
  EXPECT_EQ(openblas_get_num_threads(), 2);
  EXPECT_EQ(omp_get_max_threads(), 2);
  EXPECT_EQ(team_size(), 2);
}
