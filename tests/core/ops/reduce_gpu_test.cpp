// CUDA reductions and cumsum against the CPU backend, per dtype.
// Tolerances (atol = rtol): f64 1e-10, f32 1e-4 (summation order differs), f16 1e-2, bf16 3e-2.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/copy.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::kFloatTypes;
using test::on_cuda;

constexpr test::PerDType tol{.f64 = 1e-10, .f32 = 1e-4, .bf16 = 3e-2, .f16 = 1e-2};

class CudaReduceTest : public test::CudaTest {};

TEST_F(CudaReduceTest, SumMeanVarOverDimSets) {
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {2}, {0, 1}, {1, 2}, {0, 2}, {0, 1, 2}};
  for (DType dt : kFloatTypes) {
    Tensor x = test::randn({5, 70, 33}, dt, 1);
    Tensor xg = on_cuda(x);
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
  Tensor x = test::randn({3, 100000}, DType::f32, 2);
  GAU_EXPECT_CLOSE(ops::sum(on_cuda(x), {1}), ops::sum(x, {1}), 1e-3, 1e-4);
  GAU_EXPECT_CLOSE(ops::sum(on_cuda(x), {0}), ops::sum(x, {0}), 1e-4, 1e-4);
  Tensor t = ops::transpose(x, 0, 1);  // [100000, 3], not contiguous
  GAU_EXPECT_CLOSE(ops::sum(ops::transpose(on_cuda(x), 0, 1), {0}), ops::sum(t, {0}), 1e-3, 1e-4);
}

TEST_F(CudaReduceTest, MaxArgmaxLogsumexp) {
  for (DType dt : kFloatTypes) {
    Tensor x = test::randn({6, 50, 40}, dt, 3);
    Tensor xg = on_cuda(x);
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
  GAU_EXPECT_CLOSE(ops::argmax(on_cuda(ties), 1), ops::argmax(ties, 1), 0, 0);
  GAU_EXPECT_CLOSE(ops::argmax(on_cuda(ties), 0), ops::argmax(ties, 0), 0, 0);
}

// Edge cases where the CPU defines a value: an empty reduced dim (sum 0, mean and var NaN,
// logsumexp -inf) and a correction larger than the count (var divides by max(R - correction, 0)).
TEST_F(CudaReduceTest, EmptyDimAndLargeCorrection) {
  Tensor empty = test::randn({4, 0, 3}, DType::f32, 5);
  GAU_EXPECT_CLOSE(ops::sum(on_cuda(empty), {1}), ops::sum(empty, {1}), 0, 0);
  for (const Tensor& t : {ops::mean(on_cuda(empty), {1}), ops::var(on_cuda(empty), {1}, 0)})
    for (double v : test::values(t)) EXPECT_TRUE(std::isnan(v));
  for (const Tensor& t : {ops::logsumexp(on_cuda(empty), 1), ops::logsumexp(empty, 1)})
    for (double v : test::values(t)) EXPECT_EQ(v, -INFINITY);
  Tensor two = test::randn({5, 2}, DType::f32, 6);  // 2 values, correction 3: a variance over 0, inf
  EXPECT_EQ(test::values(ops::var(on_cuda(two), {1}, 3)), test::values(ops::var(two, {1}, 3)));
}

TEST_F(CudaReduceTest, Cumsum) {
  for (DType dt : kFloatTypes) {
    Tensor x = test::randn({4, 30, 7}, dt, 5);
    for (int64_t dim = 0; dim < 3; ++dim) {
      for (bool exclusive : {false, true}) {
        GAU_EXPECT_CLOSE(ops::cumsum(on_cuda(x), dim, exclusive), ops::cumsum(x, dim, exclusive), tol(dt), tol(dt))
            << dtype_name(dt) << " dim " << dim;
      }
    }
  }
}

}  // namespace
}  // namespace gau
