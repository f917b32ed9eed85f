// CUDA RoPE against the CPU: full and partial rotary, position offsets, f32 and f64 tables, and
// the backward. Tolerances: test::parity_tol.
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/rope.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::on_cuda;
using test::parity_tol;

class CudaRopeTest : public test::CudaTest {};

TEST_F(CudaRopeTest, MatchesTheCpu) {
  struct Case {
    Shape shape;
    int64_t rot, offset;
  };
  for (DType dt : test::kFloatTypes)
    for (DType table_dt : {DType::f32, DType::f64})
      for (const Case& c : {Case{{2, 4, 9, 128}, 128, 0}, Case{{3, 17, 64}, 32, 100}, Case{{1, 1, 8}, 8, 511}}) {
        Tensor table = ops::rope_table(512, c.rot, 10000, table_dt);
        Tensor x = test::randn(c.shape, dt, 1);
        const double tol = parity_tol(dt);
        GAU_EXPECT_CLOSE(ops::rope(on_cuda(x), on_cuda(table), c.offset), ops::rope(x, table, c.offset), tol, tol)
            << dtype_name(dt) << " table " << dtype_name(table_dt) << " " << shape_str(c.shape);
        GAU_EXPECT_CLOSE(ops::rope_backward(on_cuda(x), on_cuda(table), c.offset),
                         ops::rope_backward(x, table, c.offset), tol, tol)
            << "backward " << dtype_name(dt) << " " << shape_str(c.shape);
      }
}

}  // namespace
}  // namespace gau
