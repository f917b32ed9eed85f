// CUDA softmax family against the CPU backend: warp-per-row (short rows), block-per-row (long
// rows) and non-last dims. Tolerances (atol = rtol): f64 1e-12, f32 1e-5, f16 2e-3, bf16 2e-2.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/softmax.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

const Device kCuda = Device::cuda(0);
const DType kFloats[] = {DType::f32, DType::f64, DType::bf16, DType::f16};

double tol(DType dt) {
  switch (dt) {
    case DType::f64: return 1e-12;
    case DType::f32: return 1e-5;
    case DType::f16: return 2e-3;
    default: return 2e-2;
  }
}
Tensor rnd(const Shape& shape, DType dt, uint64_t seed) { return ops::to_dtype(test::randn64(shape, seed), dt); }
Tensor gpu(const Tensor& x) { return ops::to_device(x, kCuda); }

class CudaSoftmaxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(CudaSoftmaxTest, ForwardAndBackwardAllLayouts) {
  const std::vector<Shape> shapes = {{7, 5}, {33, 1024}, {5, 3000}, {2, 9, 17}};
  for (DType dt : kFloats) {
    for (const Shape& shape : shapes) {
      Tensor x = rnd(shape, dt, 1), dy = rnd(shape, dt, 2);
      for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
        Tensor y = ops::softmax(x, dim), ly = ops::log_softmax(x, dim);
        GAU_EXPECT_CLOSE(ops::softmax(gpu(x), dim), y, tol(dt), tol(dt)) << dtype_name(dt) << " dim " << dim;
        GAU_EXPECT_CLOSE(ops::log_softmax(gpu(x), dim), ly, tol(dt), tol(dt)) << dtype_name(dt) << " dim " << dim;
        GAU_EXPECT_CLOSE(ops::softmax_backward(gpu(y), gpu(dy), dim), ops::softmax_backward(y, dy, dim), tol(dt),
                         tol(dt));
        GAU_EXPECT_CLOSE(ops::log_softmax_backward(gpu(ly), gpu(dy), dim), ops::log_softmax_backward(ly, dy, dim),
                         tol(dt), tol(dt));
      }
    }
  }
}

TEST_F(CudaSoftmaxTest, MaskedEntries) {
  // -inf entries (attention-style masks) get probability 0 and leave the rest finite.
  Tensor x = ops::to_dtype(test::randn64({6, 40}, 3), DType::f32);
  Tensor mask = ops::compare_scalar(ops::Compare::gt, test::randn64({6, 40}, 4), 0.5);
  Tensor masked = ops::masked_fill(x, mask, -INFINITY);
  GAU_EXPECT_CLOSE(ops::softmax(gpu(masked), -1), ops::softmax(masked, -1), 1e-6, 1e-5);
  GAU_EXPECT_CLOSE(ops::log_softmax(gpu(masked), -1), ops::log_softmax(masked, -1), 1e-6, 1e-5);
}

}  // namespace
}  // namespace gau
