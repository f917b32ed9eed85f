// The NCCL backend with one rank on cuda:0, bootstrapped by the world of one: the code path of a
// multi-GPU run (unique id through the bootstrap, ncclCommInitRank, the communication stream
// ordered by events, record_stream, the watchdog), with every collective checked against the
// values a world of one must give. Skips without a GPU.
//
// Verified here: start-up, every collective and dtype, the stream ordering (a collective sees
// the work queued before it on the current stream, and work queued after wait() sees its
// result), barrier. Not verified with one GPU: arithmetic across ranks, the watchdog's timeout
// and ncclCommAbort (they need a second rank that does not arrive).
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "core/stream.h"
#include "distributed/nccl/nccl_communicator.h"
#include "distributed/single_communicator.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using distributed::ReduceOp;
using test::values;

constexpr DType kAllTypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64};

class NcclCollectives : public test::CudaTest {
 protected:
  void SetUp() override {
    CudaTest::SetUp();
    if (IsSkipped()) return;
    comm_ = distributed::make_nccl_communicator({.backend = "nccl", .timeout_s = 30, .device = Device::cuda(0)},
                                                distributed::make_single_communicator(Device::cpu()));
  }
  std::shared_ptr<distributed::Communicator> comm_;
};

Tensor iota_on_gpu(int64_t n, DType dtype) {
  return test::on_cuda(ops::to_dtype(ops::arange(1, static_cast<double>(n) + 1), dtype));
}

std::vector<double> iota(int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>(i + 1);
  return v;
}

TEST_F(NcclCollectives, IsOneRankOnTheFirstGpu) {
  EXPECT_EQ(comm_->backend(), "nccl");
  EXPECT_EQ(comm_->rank(), 0);
  EXPECT_EQ(comm_->world_size(), 1);
  EXPECT_EQ(comm_->device(), Device::cuda(0));
}

TEST_F(NcclCollectives, EveryCollectiveAndDtype) {
  for (DType dt : kAllTypes) {
    Tensor t = iota_on_gpu(100, dt);
    comm_->all_reduce(t, ReduceOp::sum)->wait();
    if (is_floating(dt)) comm_->all_reduce(t, ReduceOp::avg)->wait();
    comm_->broadcast(t, 0)->wait();
    comm_->reduce(t, 0, ReduceOp::sum)->wait();
    if (is_floating(dt)) comm_->reduce(t, 0, ReduceOp::avg)->wait();
    EXPECT_EQ(values(t), iota(100)) << dtype_name(dt);
    Tensor gathered = ops::zeros({100}, dt, Device::cuda(0));
    comm_->all_gather(gathered, t)->wait();
    EXPECT_EQ(values(gathered), iota(100)) << dtype_name(dt);
    Tensor scattered = ops::zeros({100}, dt, Device::cuda(0));
    comm_->reduce_scatter(scattered, gathered, ReduceOp::sum)->wait();
    EXPECT_EQ(values(scattered), iota(100)) << dtype_name(dt);
  }
  comm_->barrier();
}

// A collective runs after the work queued before it on the current stream, and work queued
// after its wait() runs after it: fill, all_reduce, add on the current stream, in that order.
TEST_F(NcclCollectives, IsOrderedWithTheCurrentStream) {
  const int64_t n = 1 << 22;
  Tensor t = ops::zeros({n}, DType::f32, Device::cuda(0));
  ops::fill_(t, 3.0);
  comm_->all_reduce(t, ReduceOp::sum)->wait();
  Tensor u = ops::add(t, 1.0);
  synchronize(Device::cuda(0));
  EXPECT_EQ(values(ops::narrow(u, 0, n - 4, 4)), (std::vector<double>{4, 4, 4, 4}));
}

}  // namespace
}  // namespace gau
