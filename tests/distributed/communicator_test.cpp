// The world of one, without mpirun: make_communicator's choice of backend, its option checks,
// the launcher detection (launched_with_multiple_ranks), and every collective of the single
// communicator; a multi-rank launch of a build without MPI is an error naming GAU_MPI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "distributed/communicator.h"
#include "distributed/single_communicator.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using distributed::CommunicatorOptions;
using distributed::ReduceOp;
using test::error_of;
using test::values;
using ::testing::HasSubstr;

// Sets an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

// The launcher variables that launcher_world_size reads, cleared: this test runs by hand.
class WorldOfOne : public ::testing::Test {
 protected:
  ScopedEnv ompi_{"OMPI_COMM_WORLD_SIZE", nullptr};
  ScopedEnv pmi_{"PMI_SIZE", nullptr};
  ScopedEnv slurm_{"SLURM_STEP_NUM_TASKS", nullptr};
};

TEST_F(WorldOfOne, WithoutALauncherIsAWorldOfOne) {
  EXPECT_FALSE(distributed::launched_with_multiple_ranks());
  auto comm = distributed::make_communicator({});
  EXPECT_EQ(comm->backend(), "single");
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->world_size(), 1);
  EXPECT_EQ(comm->local_rank(), 0);
  EXPECT_EQ(comm->device(), Device::cpu());
  // The backend asked for does not matter for one process, but its device must fit it.
  EXPECT_EQ(distributed::make_communicator({.backend = "nccl", .device = Device::cuda(0)})->device(), Device::cuda(0));
}

TEST_F(WorldOfOne, LaunchedWithMultipleRanksReadsTheLaunchersEnvironment) {
  {
    ScopedEnv size("OMPI_COMM_WORLD_SIZE", "2");
    EXPECT_TRUE(distributed::launched_with_multiple_ranks());
  }
  {
    ScopedEnv size("OMPI_COMM_WORLD_SIZE", "1");
    EXPECT_FALSE(distributed::launched_with_multiple_ranks());
  }
  {
    ScopedEnv size("SLURM_STEP_NUM_TASKS", "8");
    EXPECT_TRUE(distributed::launched_with_multiple_ranks());
  }
  {
    ScopedEnv size("PMI_SIZE", "4");
    EXPECT_TRUE(distributed::launched_with_multiple_ranks());
  }
  {
    // A batch script's own shell sees SLURM_NTASKS of its allocation, but it is one process.
    ScopedEnv size("SLURM_NTASKS", "4");
    EXPECT_FALSE(distributed::launched_with_multiple_ranks());
  }
  ScopedEnv size("OMPI_COMM_WORLD_SIZE", "two");
  EXPECT_THAT(error_of([] { distributed::launched_with_multiple_ranks(); }),
              HasSubstr("OMPI_COMM_WORLD_SIZE=two is not a rank count"));
}

TEST_F(WorldOfOne, AMultiRankLaunchOfABuildWithoutMpiNamesTheBuildFlag) {
#ifdef GAU_WITH_MPI
  GTEST_SKIP() << "this build has MPI; tests/distributed/mpi/ runs real multi-rank launches";
#else
  ScopedEnv size("OMPI_COMM_WORLD_SIZE", "2");
  const std::string error = error_of([] { distributed::make_communicator({}); });
  EXPECT_THAT(error, HasSubstr("one of 2 ranks started by an MPI launcher"));
  EXPECT_THAT(error, HasSubstr("gau was built without MPI"));
  EXPECT_THAT(error, HasSubstr("-DGAU_MPI=ON"));
#endif
}

TEST_F(WorldOfOne, AMultiRankGpuLaunchOfABuildWithoutNcclNamesTheBuildFlag) {
#ifdef GAU_WITH_NCCL
  GTEST_SKIP() << "this build has NCCL";
#else
  ScopedEnv size("OMPI_COMM_WORLD_SIZE", "2");
  const std::string error = error_of([] { distributed::make_communicator({.device = Device::cuda(0)}); });
  EXPECT_THAT(error, HasSubstr("gau was built without NCCL"));
  EXPECT_THAT(error, HasSubstr("-DGAU_NCCL=ON"));
#endif
}

TEST_F(WorldOfOne, RefusesBadOptions) {
  EXPECT_THAT(error_of([] { distributed::make_communicator({.backend = "gloo"}); }),
              HasSubstr("unknown backend 'gloo'; expected auto, mpi or nccl"));
  EXPECT_THAT(error_of([] { distributed::make_communicator({.timeout_s = 0}); }), HasSubstr("timeout_s must be"));
  EXPECT_THAT(error_of([] { distributed::make_communicator({.backend = "mpi", .device = Device::cuda(0)}); }),
              HasSubstr("backend mpi carries CPU tensors"));
  EXPECT_THAT(error_of([] { distributed::make_communicator({.backend = "nccl"}); }),
              HasSubstr("backend nccl carries CUDA tensors"));
}

TEST_F(WorldOfOne, SingleAllReduceBroadcastAndReduceLeaveTheTensor) {
  auto comm = distributed::make_single_communicator(Device::cpu());
  Tensor t = ops::from_vector<float>({1, 2, 3}, {3});
  comm->all_reduce(t, ReduceOp::sum)->wait();
  comm->all_reduce(t, ReduceOp::avg)->wait();
  comm->broadcast(t, 0)->wait();
  comm->reduce(t, 0, ReduceOp::sum)->wait();
  comm->reduce(t, 0, ReduceOp::avg)->wait();
  EXPECT_EQ(values(t), (std::vector<double>{1, 2, 3}));
  comm->barrier();
}

TEST_F(WorldOfOne, SingleAllGatherAndReduceScatterCopy) {
  auto comm = distributed::make_single_communicator(Device::cpu());
  Tensor in = ops::from_vector<int64_t>({4, 5, 6, 7}, {2, 2});
  Tensor out = ops::zeros({4}, DType::i64);
  comm->all_gather(out, in)->wait();
  EXPECT_EQ(values(out), (std::vector<double>{4, 5, 6, 7}));
  Tensor reduced = ops::zeros({2, 2}, DType::i64);
  comm->reduce_scatter(reduced, out, ReduceOp::sum)->wait();
  EXPECT_EQ(values(reduced), (std::vector<double>{4, 5, 6, 7}));
}

TEST_F(WorldOfOne, SingleChecksArgumentsAsEveryBackendDoes) {
  auto comm = distributed::make_single_communicator(Device::cpu());
  EXPECT_THAT(error_of([&] { comm->broadcast(ops::zeros({2}), 1); }), HasSubstr("broadcast: root 1 is not a rank"));
  EXPECT_THAT(error_of([&] { comm->reduce(ops::zeros({2}), 1, ReduceOp::sum); }),
              HasSubstr("reduce: root 1 is not a rank"));
  EXPECT_THAT(error_of([&] { comm->reduce(ops::zeros({2}, DType::i64), 0, ReduceOp::avg); }),
              HasSubstr("avg needs a floating dtype"));
  EXPECT_THAT(error_of([&] { comm->all_reduce(ops::zeros({2}, DType::i32), ReduceOp::avg); }),
              HasSubstr("avg needs a floating dtype"));
  EXPECT_THAT(error_of([&] {
                comm->all_reduce(ops::transpose(ops::zeros({2, 3}), 0, 1), ReduceOp::sum);
              }),
              HasSubstr("contiguous"));
  EXPECT_THAT(error_of([&] { comm->all_reduce(ops::zeros({2}, DType::b8), ReduceOp::sum); }),
              HasSubstr("collectives carry f32, f64, bf16, f16, i32 and i64"));
  EXPECT_THAT(error_of([&] { comm->all_gather(ops::zeros({3}), ops::zeros({2})); }), HasSubstr("out must hold"));
  EXPECT_THAT(error_of([&] { comm->all_reduce(Tensor(), ReduceOp::sum); }), HasSubstr("undefined"));
}

TEST_F(WorldOfOne, SingleAbortEndsTheProcessWithItsReason) {
  auto comm = distributed::make_single_communicator(Device::cpu());
  EXPECT_EXIT(comm->abort("the loss is NaN at step 7"), ::testing::ExitedWithCode(1),
              "gau: rank 0 of 1 aborts the run: the loss is NaN at step 7");
}

}  // namespace
}  // namespace gau
