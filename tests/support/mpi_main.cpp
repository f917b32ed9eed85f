#include "tests/support/mpi_main.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "core/error.h"
#include "core/ops/factory.h"

namespace gau::test {

namespace {

std::shared_ptr<distributed::Communicator> g_world;

// A rank other than 0: its failures only, so that N ranks do not print N copies of the report.
class FailuresOfRank : public ::testing::EmptyTestEventListener {
 public:
  explicit FailuresOfRank(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_, result.file_name() ? result.file_name() : "?",
                 result.line_number(), result.message());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed())
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
  }

 private:
  int rank_;
};

}  // namespace

distributed::Communicator& world() {
  GAU_CHECK(g_world != nullptr, "test::world() is made by run_tests_on_every_rank");
  return *g_world;
}

int run_tests_on_every_rank(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  g_world = distributed::make_communicator({.backend = "mpi", .timeout_s = 30});
  if (g_world->rank() != 0) {
    ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailuresOfRank(g_world->rank()));
  }
  const int status = RUN_ALL_TESTS();
  // Rank 0's report covers its own tests only: say when other ranks failed, and fail every rank.
  Tensor failed = ops::full({1}, status != 0 ? 1 : 0, DType::i32);
  g_world->all_reduce(failed, distributed::ReduceOp::sum)->wait();
  const int ranks_failed = failed.data<int32_t>()[0];
  if (g_world->rank() == 0 && ranks_failed > 0) {
    std::fprintf(stderr, "%d of %d ranks had failures (the other ranks' lines start with [rank r])\n", ranks_failed,
                 g_world->world_size());
  }
  g_world.reset();  // before MPI is finalised at exit
  return ranks_failed > 0 ? 1 : 0;
}

}  // namespace gau::test
