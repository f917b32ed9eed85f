// The MPI backend under mpirun (2 and 4 ranks, see CMakeLists.txt): every collective and dtype
// against the values expected from rank-dependent inputs, sum and avg, broadcast and reduce to a
// non-zero root, barrier, several collectives in flight, and the argument errors.
//
// The inputs are small integers (times a rank factor), exact in every dtype, so the results are
// compared exactly: in bf16 the largest value, 4 ranks' sum of up to 10 x 20, stays under 256.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "distributed/communicator.h"
#include "tests/support/checks.h"
#include "tests/support/mpi_main.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using distributed::Communicator;
using distributed::ReduceOp;
using test::error_of;
using test::values;
using test::world;

constexpr DType kAllTypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64};

// A tensor of `dtype` holding f(i) at index i.
Tensor make(DType dtype, int64_t n, const std::function<double(int64_t)>& f) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = f(i);
  return ops::to_dtype(ops::from_vector<double>(v, {n}), dtype);
}

std::vector<double> expected(int64_t n, const std::function<double(int64_t)>& f) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = f(i);
  return v;
}

// 1 + 2 + ... + N: the sum over ranks of (rank + 1).
double rank_sum(const Communicator& c) { return c.world_size() * (c.world_size() + 1) / 2.0; }

TEST(MpiCommunicator, IsTheLaunchersWorld) {
  Communicator& c = world();
  EXPECT_EQ(c.backend(), "mpi");
  EXPECT_EQ(c.device(), Device::cpu());
  EXPECT_EQ(c.world_size(), std::atoi(std::getenv("OMPI_COMM_WORLD_SIZE")));
  EXPECT_EQ(c.rank(), std::atoi(std::getenv("OMPI_COMM_WORLD_RANK")));
  EXPECT_GE(c.local_rank(), 0);
  EXPECT_LT(c.local_rank(), c.world_size());
  EXPECT_TRUE(distributed::launched_with_multiple_ranks());
  EXPECT_EQ(distributed::make_communicator({})->backend(), "mpi");  // auto on the CPU
}

TEST(MpiCommunicator, AllReduceSumsEveryDtype) {
  Communicator& c = world();
  const int64_t n = 1001;  // not a multiple of the world size
  for (DType dt : kAllTypes) {
    Tensor t = make(dt, n, [&](int64_t i) { return (c.rank() + 1) * (i % 7 + 1); });
    c.all_reduce(t, ReduceOp::sum)->wait();
    EXPECT_EQ(t.dtype(), dt);
    EXPECT_EQ(values(t), expected(n, [&](int64_t i) { return rank_sum(c) * (i % 7 + 1); })) << dtype_name(dt);
  }
}

TEST(MpiCommunicator, AllReduceAveragesFloatingDtypes) {
  Communicator& c = world();
  const int64_t n = 300;
  for (DType dt : test::kFloatTypes) {
    Tensor t = make(dt, n, [&](int64_t i) { return (c.rank() + 1) * (i % 7 + 1); });
    c.all_reduce(t, ReduceOp::avg)->wait();
    EXPECT_EQ(values(t), expected(n, [&](int64_t i) { return rank_sum(c) / c.world_size() * (i % 7 + 1); }))
        << dtype_name(dt);
  }
}

TEST(MpiCommunicator, AllReduceOfALargeBuffer) {
  Communicator& c = world();
  const int64_t n = 1 << 20;
  Tensor t = ops::full({n}, c.rank() + 1.0);
  c.all_reduce(t, ReduceOp::sum)->wait();
  const float* p = t.data<float>();
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i) wrong += p[i] != static_cast<float>(rank_sum(c));
  EXPECT_EQ(wrong, 0);
}

TEST(MpiCommunicator, BroadcastFromTheLastRank) {
  Communicator& c = world();
  const int root = c.world_size() - 1;
  for (DType dt : kAllTypes) {
    Tensor t = make(dt, 37, [&](int64_t i) { return c.rank() * 10 + i % 5; });
    c.broadcast(t, root)->wait();
    EXPECT_EQ(values(t), expected(37, [&](int64_t i) { return root * 10 + i % 5; })) << dtype_name(dt);
  }
}

// The last rank receives the sum; every other rank's tensor keeps its own values.
TEST(MpiCommunicator, ReduceSumsEveryDtypeOnTheRootOnly) {
  Communicator& c = world();
  const int root = c.world_size() - 1;
  const int64_t n = 1001;
  for (DType dt : kAllTypes) {
    Tensor t = make(dt, n, [&](int64_t i) { return (c.rank() + 1) * (i % 7 + 1); });
    c.reduce(t, root, ReduceOp::sum)->wait();
    EXPECT_EQ(t.dtype(), dt);
    const double factor = c.rank() == root ? rank_sum(c) : c.rank() + 1;
    EXPECT_EQ(values(t), expected(n, [&](int64_t i) { return factor * (i % 7 + 1); })) << dtype_name(dt);
  }
}

TEST(MpiCommunicator, ReduceAveragesFloatingDtypesToEachRoot) {
  Communicator& c = world();
  const int64_t n = 300;
  for (int root = 0; root < c.world_size(); ++root)
    for (DType dt : test::kFloatTypes) {
      Tensor t = make(dt, n, [&](int64_t i) { return (c.rank() + 1) * (i % 7 + 1); });
      c.reduce(t, root, ReduceOp::avg)->wait();
      const double factor = c.rank() == root ? rank_sum(c) / c.world_size() : c.rank() + 1;
      EXPECT_EQ(values(t), expected(n, [&](int64_t i) { return factor * (i % 7 + 1); }))
          << dtype_name(dt) << " root " << root;
    }
}

TEST(MpiCommunicator, AllGatherConcatenatesByRank) {
  Communicator& c = world();
  const int64_t n = 5;
  for (DType dt : kAllTypes) {
    Tensor in = make(dt, n, [&](int64_t i) { return c.rank() * 10 + i; });
    Tensor out = ops::zeros({c.world_size(), n}, dt);  // any shape of world_size * n elements
    c.all_gather(out, in)->wait();
    EXPECT_EQ(values(out), expected(c.world_size() * n, [&](int64_t j) { return j / n * 10 + j % n; }))
        << dtype_name(dt);
  }
}

TEST(MpiCommunicator, ReduceScatterSumsThisRanksSlice) {
  Communicator& c = world();
  const int64_t n = 5;
  for (DType dt : kAllTypes) {
    Tensor in = make(dt, c.world_size() * n, [&](int64_t j) { return (c.rank() + 1) * (j + 1); });
    Tensor out = ops::zeros({n}, dt);
    c.reduce_scatter(out, in, ReduceOp::sum)->wait();
    EXPECT_EQ(values(out), expected(n, [&](int64_t i) { return rank_sum(c) * (c.rank() * n + i + 1); }))
        << dtype_name(dt);
  }
}

TEST(MpiCommunicator, ReduceScatterAverages) {
  Communicator& c = world();
  const int64_t n = 3;
  for (DType dt : test::kFloatTypes) {
    Tensor in = make(dt, c.world_size() * n, [&](int64_t j) { return (c.rank() + 1) * (j + 1); });
    Tensor out = ops::zeros({n}, dt);
    c.reduce_scatter(out, in, ReduceOp::avg)->wait();
    EXPECT_EQ(values(out),
              expected(n, [&](int64_t i) { return rank_sum(c) / c.world_size() * (c.rank() * n + i + 1); }))
        << dtype_name(dt);
  }
}

// Ranks arrive 100 ms apart; none may leave before the last has arrived. steady_clock is the
// machine's monotonic clock, the same in every process of this one-machine run.
TEST(MpiCommunicator, BarrierHoldsEveryRankUntilTheLastArrives) {
  Communicator& c = world();
  using clock = std::chrono::steady_clock;
  std::this_thread::sleep_for(std::chrono::milliseconds(100 * c.rank()));
  const double arrived = std::chrono::duration<double>(clock::now().time_since_epoch()).count();
  c.barrier();
  const double left = std::chrono::duration<double>(clock::now().time_since_epoch()).count();
  Tensor arrivals = Tensor::empty({c.world_size()}, DType::f64);
  c.all_gather(arrivals, ops::full({1}, arrived, DType::f64))->wait();
  for (double a : values(arrivals)) EXPECT_GE(left, a);
}

TEST(MpiCommunicator, SeveralCollectivesInFlightCompleteInAnyOrder) {
  Communicator& c = world();
  Tensor a = ops::full({1000}, c.rank() + 1.0);
  Tensor b = ops::full({2000}, 2.0 * (c.rank() + 1), DType::f64);
  Tensor g = Tensor::empty({c.world_size()}, DType::i64);
  auto wa = c.all_reduce(a, ReduceOp::sum);
  auto wb = c.all_reduce(b, ReduceOp::avg);
  auto wg = c.all_gather(g, ops::full({1}, c.rank(), DType::i64));
  wg->wait();
  wb->wait();
  wa->wait();
  EXPECT_EQ(values(a), std::vector<double>(1000, rank_sum(c)));
  EXPECT_EQ(values(b), std::vector<double>(2000, 2.0 * rank_sum(c) / c.world_size()));
  EXPECT_EQ(values(g), expected(c.world_size(), [](int64_t r) { return static_cast<double>(r); }));
}

TEST(MpiCommunicator, AWorkDroppedWithoutWaitStillCompletes) {
  Communicator& c = world();
  Tensor t = ops::full({64}, c.rank() + 1.0);
  c.all_reduce(t, ReduceOp::sum);  // the Work's destructor waits
  EXPECT_EQ(values(t), std::vector<double>(64, rank_sum(c)));
  Tensor h = ops::full({64}, c.rank() + 1.0, DType::bf16);
  c.all_reduce(h, ReduceOp::avg);  // and finishes: the f32 mean, divided and rounded back to bf16
  EXPECT_EQ(values(h), std::vector<double>(64, rank_sum(c) / c.world_size()));
  auto work = c.all_reduce(t, ReduceOp::sum);
  work->wait();
  work->wait();  // a second wait returns at once
  EXPECT_EQ(values(t), std::vector<double>(64, rank_sum(c) * c.world_size()));
}

// Every rank raises the same error before any communication, so the world stays in step.
TEST(MpiCommunicator, RefusesBadArgumentsBeforeCommunicating) {
  Communicator& c = world();
  const int n = c.world_size();
  EXPECT_NE(error_of([&] {
              c.all_reduce(ops::transpose(ops::zeros({3, 4}), 0, 1), ReduceOp::sum);
            }).find("contiguous"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.all_reduce(ops::zeros({4}, DType::i32), ReduceOp::avg); }).find("avg needs a floating"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.broadcast(ops::zeros({4}), n); }).find("not a rank"), std::string::npos);
  EXPECT_NE(error_of([&] { c.reduce(ops::zeros({4}), -1, ReduceOp::sum); }).find("reduce: root -1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.reduce(ops::zeros({4}, DType::i64), 0, ReduceOp::avg); }).find("avg needs a floating"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.all_gather(ops::zeros({n * 4 + 1}), ops::zeros({4})); }).find("all_gather: out must hold"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              c.reduce_scatter(ops::zeros({4}), ops::zeros({4}, DType::f64), ReduceOp::sum);
            }).find("one dtype"),
            std::string::npos);
  Tensor whole = ops::zeros({n * 4});
  EXPECT_NE(error_of([&] { c.all_gather(whole, ops::narrow(whole, 0, 0, 4)); }).find("must not overlap"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              distributed::make_communicator({.backend = "mpi", .device = Device::cuda(0)});
            }).find("backend mpi carries CPU tensors"),
            std::string::npos);
  c.barrier();  // still in step
}

}  // namespace
}  // namespace gau

int main(int argc, char** argv) { return gau::test::run_tests_on_every_rank(argc, argv); }
