#pragma once
// Shared helpers for the CUDA tests, which compare the CUDA backend with the CPU one.
//
//   class CudaSoftmaxTest : public test::CudaTest {};
//   TEST_F(CudaSoftmaxTest, Forward) {
//     const double tol = test::parity_tol(dt);
//     GAU_EXPECT_CLOSE(ops::softmax(test::on_cuda(x), 1), ops::softmax(x, 1), tol, tol);
//   }
#include <gtest/gtest.h>

#include "core/tensor.h"
#include "tests/support/parity.h"

namespace gau::test {

// Fixture base: every test skips when no CUDA device is visible. A derived SetUp calls
// CudaTest::SetUp() first and returns when IsSkipped().
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override;
};

// A copy of x on cuda:0.
Tensor on_cuda(const Tensor& x);

// atol = rtol of a CUDA op against the CPU one on the same inputs: f64 1e-12, f32 1e-5 (the
// backends' transcendentals and summation orders differ by ulps), f16 2e-3, bf16 2e-2 (one unit in
// the last place after rounding the f32 result); integer results are exact.
inline constexpr PerDType parity_tol{.f64 = 1e-12, .f32 = 1e-5, .bf16 = 2e-2, .f16 = 2e-3};

}  // namespace gau::test
