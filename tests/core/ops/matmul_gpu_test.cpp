// CUDA matmul (cuBLASLt) against the CPU backend (OpenBLAS): transposes, alpha/beta, batched,
// broadcast batches, strided views. Tolerances scale with k: f64 1e-10, f32 1e-4 (no TF32),
// f16 1e-2, bf16 5e-2 (the output is rounded to 8 bits of mantissa).
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::kFloatTypes;
using test::on_cuda;

constexpr test::PerDType tol{.f64 = 1e-10, .f32 = 1e-4, .bf16 = 5e-2, .f16 = 1e-2};

class CudaMatmulTest : public test::CudaTest {};

TEST_F(CudaMatmulTest, TwoDimWithTransposes) {
  const int64_t m = 37, k = 64, n = 29;
  for (DType dt : kFloatTypes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        Tensor a = test::randn(ta ? Shape{k, m} : Shape{m, k}, dt, 1);
        Tensor b = test::randn(tb ? Shape{n, k} : Shape{k, n}, dt, 2);
        ops::MatmulOptions opt{ta, tb, 0.5};
        GAU_EXPECT_CLOSE(ops::matmul(on_cuda(a), on_cuda(b), opt), ops::matmul(a, b, opt), tol(dt), tol(dt))
            << dtype_name(dt) << " trans_a=" << ta << " trans_b=" << tb;
      }
    }
  }
}

TEST_F(CudaMatmulTest, BetaAccumulates) {
  for (DType dt : kFloatTypes) {
    Tensor a = test::randn({16, 24}, dt, 3), b = test::randn({24, 8}, dt, 4), c = test::randn({16, 8}, dt, 5);
    Tensor cg = ops::clone(on_cuda(c));
    ops::matmul_into(cg, on_cuda(a), on_cuda(b), {}, 0.75);
    ops::matmul_into(c, a, b, {}, 0.75);
    GAU_EXPECT_CLOSE(cg, c, tol(dt), tol(dt)) << dtype_name(dt);
  }
}

TEST_F(CudaMatmulTest, BatchedAndBroadcast) {
  for (DType dt : kFloatTypes) {
    Tensor a = test::randn({3, 4, 10, 16}, dt, 6), b = test::randn({16, 12}, dt, 7);  // 2-D b shared by every batch
    GAU_EXPECT_CLOSE(ops::matmul(on_cuda(a), on_cuda(b)), ops::matmul(a, b), tol(dt), tol(dt)) << dtype_name(dt);
    Tensor w = test::randn({12, 10}, dt, 8), x = test::randn({5, 10, 7}, dt, 9);  // 2-D a shared
    GAU_EXPECT_CLOSE(ops::matmul(on_cuda(w), on_cuda(x)), ops::matmul(w, x), tol(dt), tol(dt)) << dtype_name(dt);
    Tensor p = test::randn({2, 1, 6, 8}, dt, 10), q = test::randn({1, 3, 8, 5}, dt, 11);  // both broadcast
    GAU_EXPECT_CLOSE(ops::matmul(on_cuda(p), on_cuda(q)), ops::matmul(p, q), tol(dt), tol(dt)) << dtype_name(dt);
    Tensor u = test::randn({4, 9, 6}, dt, 12), v = test::randn({4, 7, 6}, dt, 13);
    ops::MatmulOptions nt{false, true, 1.0};
    GAU_EXPECT_CLOSE(ops::bmm(on_cuda(u), on_cuda(v), nt), ops::bmm(u, v, nt), tol(dt), tol(dt)) << dtype_name(dt);
  }
}

TEST_F(CudaMatmulTest, StridedViews) {
  Tensor a = test::randn({20, 40}, DType::f32, 14), b = test::randn({30, 25}, DType::f32, 15);
  // Column slices (ld > cols), an odd offset (misaligned for cuBLASLt's default assumptions) and
  // a transposed view (column-major storage).
  Tensor av = ops::narrow(a, 1, 3, 30);
  Tensor bv = ops::transpose(ops::narrow(b, 1, 1, 20), 0, 1);  // [20, 30]
  Tensor ag = on_cuda(a), bg = on_cuda(b);
  Tensor avg = ops::narrow(ag, 1, 3, 30), bvg = ops::transpose(ops::narrow(bg, 1, 1, 20), 0, 1);
  GAU_EXPECT_CLOSE(ops::matmul(avg, ops::transpose(bvg, 0, 1)), ops::matmul(av, ops::transpose(bv, 0, 1)), 1e-4, 1e-4);
  GAU_EXPECT_CLOSE(ops::matmul(ops::transpose(bvg, 0, 1), avg), ops::matmul(ops::transpose(bv, 0, 1), av), 1e-4,
                   1e-4);
}

TEST_F(CudaMatmulTest, LargerSquare) {
  Tensor a = test::randn({512, 768}, DType::bf16, 16), b = test::randn({768, 384}, DType::bf16, 17);
  GAU_EXPECT_CLOSE(ops::matmul(on_cuda(a), on_cuda(b)), ops::matmul(a, b), 0.1, 2e-2);
  Tensor af = test::randn({256, 300}, DType::f32, 18), bf = test::randn({300, 200}, DType::f32, 19);
  GAU_EXPECT_CLOSE(ops::matmul(on_cuda(af), on_cuda(bf)), ops::matmul(af, bf), 1e-4, 1e-4);
}

}  // namespace
}  // namespace gau
