// CUDA softmax family against the CPU backend: warp-per-row (short rows), block-per-row (long
// rows) and non-last dims. Tolerances (atol = rtol): f64 1e-12, f32 1e-5, f16 2e-3, bf16 2e-2.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/softmax.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::kFloatTypes;
using test::on_cuda;
using test::parity_tol;

class CudaSoftmaxTest : public test::CudaTest {};

TEST_F(CudaSoftmaxTest, ForwardAndBackwardAllLayouts) {
  const std::vector<Shape> shapes = {{7, 5}, {33, 1024}, {5, 3000}, {2, 9, 17}};
  for (DType dt : kFloatTypes) {
    for (const Shape& shape : shapes) {
      Tensor x = test::randn(shape, dt, 1), dy = test::randn(shape, dt, 2);
      for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
        Tensor y = ops::softmax(x, dim), ly = ops::log_softmax(x, dim);
        GAU_EXPECT_CLOSE(ops::softmax(on_cuda(x), dim), y, parity_tol(dt), parity_tol(dt))
            << dtype_name(dt) << " dim " << dim;
        GAU_EXPECT_CLOSE(ops::log_softmax(on_cuda(x), dim), ly, parity_tol(dt), parity_tol(dt))
            << dtype_name(dt) << " dim " << dim;
        GAU_EXPECT_CLOSE(ops::softmax_backward(on_cuda(y), on_cuda(dy), dim), ops::softmax_backward(y, dy, dim),
                         parity_tol(dt), parity_tol(dt));
        GAU_EXPECT_CLOSE(ops::log_softmax_backward(on_cuda(ly), on_cuda(dy), dim),
                         ops::log_softmax_backward(ly, dy, dim), parity_tol(dt), parity_tol(dt));
      }
    }
  }
}

TEST_F(CudaSoftmaxTest, MaskedEntries) {
  // -inf entries (attention-style masks) get probability 0 and leave the rest finite.
  Tensor x = ops::to_dtype(test::randn64({6, 40}, 3), DType::f32);
  Tensor mask = ops::compare_scalar(ops::Compare::gt, test::randn64({6, 40}, 4), 0.5);
  Tensor masked = ops::masked_fill(x, mask, -INFINITY);
  GAU_EXPECT_CLOSE(ops::softmax(on_cuda(masked), -1), ops::softmax(masked, -1), 1e-6, 1e-5);
  GAU_EXPECT_CLOSE(ops::log_softmax(on_cuda(masked), -1), ops::log_softmax(masked, -1), 1e-6, 1e-5);
}

// Large logits: log_softmax is (x - max) - log(sum), exact in x - max on both backends; the form
// x - (max + log(sum)) rounds at ulp(1000) = 6e-5, beyond the f32 tolerance.
TEST_F(CudaSoftmaxTest, LogSoftmaxOfLargeLogits) {
  Tensor x = ops::add(ops::to_dtype(test::randn64({4, 300}, 5), DType::f32), 1000.0);
  GAU_EXPECT_CLOSE(ops::log_softmax(on_cuda(x), -1), ops::log_softmax(x, -1), 2e-6, 2e-6);
  GAU_EXPECT_CLOSE(ops::log_softmax(on_cuda(x), 0), ops::log_softmax(x, 0), 2e-6, 2e-6);
}

}  // namespace
}  // namespace gau
