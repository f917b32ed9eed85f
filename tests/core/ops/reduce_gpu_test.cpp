// CUDA reductions and cumsum against the CPU backend, per dtype.
// Tolerances (atol = rtol): f64 1e-10, f32 1e-4 (summation order differs), f16 1e-2, bf16 3e-2.
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

const Device kCuda = Device::cuda(0);
const DType kFloats[] = {DType::f32, DType::f64, DType::bf16, DType::f16};

double tol(DType dt) {
  switch (dt) {
    case DType::f64: return 1e-10;
    case DType::f32: return 1e-4;
    case DType::f16: return 1e-2;
    default: return 3e-2;
  }
}
Tensor rnd(const Shape& shape, DType dt, uint64_t seed) { return ops::to_dtype(test::randn64(shape, seed), dt); }
Tensor gpu(const Tensor& x) { return ops::to_device(x, kCuda); }

class CudaReduceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(CudaReduceTest, SumMeanVarOverDimSets) {
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {2}, {0, 1}, {1, 2}, {0, 2}, {0, 1, 2}};
  for (DType dt : kFloats) {
    Tensor x = rnd({5, 70, 33}, dt, 1);
    Tensor xg = gpu(x);
    for (const auto& dims : dim_sets) {
      for (bool keep : {false, true}) {
        GAU_EXPECT_CLOSE(ops::sum(xg, dims, keep), ops::sum(x, dims, keep), tol(dt), tol(dt)) << dtype_name(dt);
        GAU_EXPECT_CLOSE(ops::mean(xg, dims, keep), ops::mean(x, dims, keep), tol(dt), tol(dt)) << dtype_name(dt);
        GAU_EXPECT_CLOSE(ops::var(xg, dims, 1, keep), ops::var(x, dims, 1, keep), tol(dt), tol(dt)) << dtype_name(dt);
      }
    }
    GAU_EXPECT_CLOSE(ops::var(xg, {1}, 0), ops::var(x, {1}, 0), tol(dt), tol(dt));
  }
}

TEST_F(CudaReduceTest, LongRowsAndStridedInput) {
  Tensor x = rnd({3, 100000}, DType::f32, 2);
  GAU_EXPECT_CLOSE(ops::sum(gpu(x), {1}), ops::sum(x, {1}), 1e-3, 1e-4);
  GAU_EXPECT_CLOSE(ops::sum(gpu(x), {0}), ops::sum(x, {0}), 1e-4, 1e-4);
  Tensor t = ops::transpose(x, 0, 1);  // [100000, 3], not contiguous
  GAU_EXPECT_CLOSE(ops::sum(ops::transpose(gpu(x), 0, 1), {0}), ops::sum(t, {0}), 1e-3, 1e-4);
}

TEST_F(CudaReduceTest, MaxArgmaxLogsumexp) {
  for (DType dt : kFloats) {
    Tensor x = rnd({6, 50, 40}, dt, 3);
    Tensor xg = gpu(x);
    for (int64_t dim = 0; dim < 3; ++dim) {
      for (bool keep : {false, true}) {
        GAU_EXPECT_CLOSE(ops::max(xg, dim, keep), ops::max(x, dim, keep), 0, 0) << dtype_name(dt) << " dim " << dim;
        GAU_EXPECT_CLOSE(ops::argmax(xg, dim, keep), ops::argmax(x, dim, keep), 0, 0) << dtype_name(dt);
        GAU_EXPECT_CLOSE(ops::logsumexp(xg, dim, keep), ops::logsumexp(x, dim, keep), tol(dt), tol(dt))
            << dtype_name(dt);
      }
    }
  }
  // Ties: argmax gives the first index of the max, on either layout.
  Tensor ties = ops::to_dtype(ops::to_dtype(test::uniform64({64, 300}, 4, 0, 3), DType::i64), DType::f32);
  GAU_EXPECT_CLOSE(ops::argmax(gpu(ties), 1), ops::argmax(ties, 1), 0, 0);
  GAU_EXPECT_CLOSE(ops::argmax(gpu(ties), 0), ops::argmax(ties, 0), 0, 0);
}

TEST_F(CudaReduceTest, Cumsum) {
  for (DType dt : kFloats) {
    Tensor x = rnd({4, 30, 7}, dt, 5);
    for (int64_t dim = 0; dim < 3; ++dim) {
      for (bool exclusive : {false, true}) {
        GAU_EXPECT_CLOSE(ops::cumsum(gpu(x), dim, exclusive), ops::cumsum(x, dim, exclusive), tol(dt), tol(dt))
            << dtype_name(dt) << " dim " << dim;
      }
    }
  }
}

}  // namespace
}  // namespace gau
