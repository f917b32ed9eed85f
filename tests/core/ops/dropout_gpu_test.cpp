// CUDA dropout against the CPU: the same (seed, offset) gives the same mask and the same values,
// bit for bit, for every dtype, including a tail that is not a multiple of 4 and a large offset.
#include <gtest/gtest.h>

#include "core/ops/dropout.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::on_cuda;

class CudaDropoutTest : public test::CudaTest {};

TEST_F(CudaDropoutTest, SameMaskAsTheCpu) {
  for (DType dt : test::kFloatTypes)
    for (const Shape& shape : {Shape{7, 5}, Shape{3, 1000, 129}})
      for (uint64_t offset : {uint64_t{0}, uint64_t{1} << 40}) {
        Tensor x = test::randn(shape, dt, 1, 0.1);
        GAU_EXPECT_CLOSE(ops::dropout(on_cuda(x), 0.3, 42, offset), ops::dropout(x, 0.3, 42, offset), 0, 0)
            << dtype_name(dt) << " " << shape_str(shape) << " offset " << offset;
      }
}

}  // namespace
}  // namespace gau
