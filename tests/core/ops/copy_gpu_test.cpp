// CUDA copies (host <-> device, strided, broadcast, dtype casts), fills and Philox random fills
// against the CPU backend.
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

const Device kCuda = Device::cuda(0);

class CudaCopyTest : public test::CudaTest {};

// Every element equal after converting both to f64 on the host.
::testing::AssertionResult identical(const Tensor& got, const Tensor& expected) {
  return test::all_close(got, expected, 0.0, 0.0);
}

TEST_F(CudaCopyTest, RoundTripKeepsEveryDtype) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::b8}) {
    Tensor x = ops::to_dtype(test::uniform64({5, 7}, 11, -50, 50), dt);
    Tensor back = ops::to_device(ops::to_device(x, kCuda), Device::cpu());
    EXPECT_TRUE(identical(back, x)) << dtype_name(dt);
  }
}

TEST_F(CudaCopyTest, CastsOnDeviceMatchTheCpu) {
  // Includes values that need round-to-nearest-even in bf16/f16 and values beyond f16's range.
  Tensor x = ops::mul(test::randn64({64, 33}, 3), 1000.0);
  for (DType from : {DType::f64, DType::f32, DType::bf16, DType::f16}) {
    Tensor src = ops::to_dtype(x, from);
    Tensor src_gpu = ops::to_device(src, kCuda);
    for (DType to : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::b8}) {
      Tensor cpu = ops::to_dtype(src, to);
      Tensor gpu = ops::to_dtype(src_gpu, to);
      EXPECT_TRUE(identical(gpu, cpu)) << dtype_name(from) << " -> " << dtype_name(to);
    }
  }
}

TEST_F(CudaCopyTest, StridedAndBroadcastCopies) {
  Tensor x = test::randn64({6, 8, 10}, 5);
  Tensor xg = ops::to_device(x, kCuda);
  // Transposed source into a contiguous destination, on the device and across host/device.
  Tensor t_cpu = ops::contiguous(ops::permute(x, {2, 0, 1}));
  EXPECT_TRUE(identical(ops::contiguous(ops::permute(xg, {2, 0, 1})), t_cpu));
  Tensor dst = ops::zeros({10, 6, 8}, DType::f64, kCuda);
  ops::copy_(dst, ops::permute(x, {2, 0, 1}));  // host strided -> device
  EXPECT_TRUE(identical(dst, t_cpu));
  Tensor host = ops::zeros({10, 6, 8}, DType::f32);
  ops::copy_(host, ops::permute(xg, {2, 0, 1}));  // device strided -> host, with a cast
  EXPECT_TRUE(identical(host, ops::to_dtype(t_cpu, DType::f32)));
  // Strided destination (a slice) and a broadcast source.
  Tensor row = test::randn64({10}, 9);
  Tensor big = ops::zeros({6, 20}, DType::f64, kCuda);
  ops::copy_(ops::slice(big, 1, 0, 20, 2), ops::to_device(row, kCuda));
  Tensor expect = ops::zeros({6, 20}, DType::f64);
  ops::copy_(ops::slice(expect, 1, 0, 20, 2), row);
  EXPECT_TRUE(identical(big, expect));
}

TEST_F(CudaCopyTest, FillMatchesCpu) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64, DType::b8}) {
    Tensor g = ops::full({3, 5}, 2.7182818, dt, kCuda);
    Tensor c = ops::full({3, 5}, 2.7182818, dt);
    EXPECT_TRUE(identical(g, c)) << dtype_name(dt);
  }
  // A strided fill leaves the other elements alone.
  Tensor g = ops::zeros({4, 6}, DType::f32, kCuda);
  ops::fill_(ops::slice(g, 1, 1, 6, 2), -1.5);
  Tensor c = ops::zeros({4, 6}, DType::f32);
  ops::fill_(ops::slice(c, 1, 1, 6, 2), -1.5);
  EXPECT_TRUE(identical(g, c));
}

TEST_F(CudaCopyTest, RandIsBitIdenticalToCpu) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    Generator gc(1234), gg(1234);
    Tensor c = ops::rand({1001, 3}, dt, Device::cpu(), -2, 3, &gc);
    Tensor g = ops::rand({1001, 3}, dt, kCuda, -2, 3, &gg);
    EXPECT_TRUE(identical(g, c)) << dtype_name(dt);
    EXPECT_EQ(gc.offset(), gg.offset());
  }
}

TEST_F(CudaCopyTest, RandnMatchesCpu) {
  // Same Philox words and Box-Muller formula; logf/sinf/cosf of glibc and of CUDA may differ in
  // the last bit, so f32 is compared to a few ulps (bf16/f16 rounding hides that difference).
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    Generator gc(99), gg(99);
    Tensor c = ops::randn({4097}, dt, Device::cpu(), 0.5, 2.0, &gc);
    Tensor g = ops::randn({4097}, dt, kCuda, 0.5, 2.0, &gg);
    const double tol = dt == DType::bf16 ? 2e-2 : (dt == DType::f16 ? 2e-3 : 2e-6);
    EXPECT_TRUE(test::all_close(g, c, tol, tol)) << dtype_name(dt);
  }
}

}  // namespace
}  // namespace gau
