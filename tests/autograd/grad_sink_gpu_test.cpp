// Gradient sinks on CUDA: matmul's backward adds into a preallocated gradient buffer with one
// beta = 1 cuBLASLt GEMM, and a bf16 weight's f32 buffer gets the f32 accumulation (cuBLASLt's
// bf16 A/B, f32 C/D pair) unrounded. Checked against the CPU backend on the same values.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/matmul.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::on_cuda;

class CudaGradSinkTest : public test::CudaTest {};

// d_w of sum(matmul(x, w) * r) on `device`, w's gradient a zeroed (then once filled) buffer of
// dtype `buffer`.
Tensor weight_grad(const Tensor& x, const Tensor& w0, const Tensor& r, DType buffer, bool sinks, int backwards) {
  autograd::set_grad_sinks_enabled(sinks);
  Tensor w = ops::clone(w0).requires_grad_();
  w.set_grad(ops::zeros(w.shape(), buffer, w.device()));
  for (int i = 0; i < backwards; ++i) gau::sum(gau::mul(gau::matmul(x, w), r)).backward();
  autograd::set_grad_sinks_enabled(true);
  EXPECT_EQ(w.grad().dtype(), buffer);
  return ops::to_device(w.grad(), Device::cpu());
}

TEST_F(CudaGradSinkTest, SharedWeightMatchesTheCpuAndThePathWithoutSinks) {
  Tensor x = test::randn({3, 40, 64}, DType::f32, 1);
  Tensor w = test::randn({64, 48}, DType::f32, 2);
  Tensor r = test::randn({3, 40, 48}, DType::f32, 3);
  Tensor cpu = weight_grad(x, w, r, DType::f32, true, 2);
  Tensor with = weight_grad(on_cuda(x), on_cuda(w), on_cuda(r), DType::f32, true, 2);
  Tensor without = weight_grad(on_cuda(x), on_cuda(w), on_cuda(r), DType::f32, false, 2);
  GAU_EXPECT_CLOSE(with, cpu, 1e-4, 1e-4);
  GAU_EXPECT_CLOSE(with, without, 1e-5, 1e-5);
}

TEST_F(CudaGradSinkTest, Bf16WeightF32BufferHoldsTheUnroundedProduct) {
  Tensor x = test::randn({64, 96}, DType::bf16, 4);
  Tensor w = test::randn({96, 32}, DType::bf16, 5);
  Tensor r = test::randn({64, 32}, DType::bf16, 6);
  Tensor got = weight_grad(on_cuda(x), on_cuda(w), on_cuda(r), DType::f32, true, 1);
  // The f32 product of the same bf16 values on the CPU: equal to f32 accumulation error, far
  // below a bf16 rounding (2^-8 relative), which the path without sinks would show.
  Tensor want = ops::matmul(ops::to_dtype(x, DType::f32), ops::to_dtype(r, DType::f32), {true, false, 1.0});
  GAU_EXPECT_CLOSE(got, want, 1e-5, 1e-5);
  Tensor rounded = weight_grad(on_cuda(x), on_cuda(w), on_cuda(r), DType::f32, false, 1);
  GAU_EXPECT_CLOSE(rounded, want, 1e-2, 1e-2);  // the old path: bf16-rounded, but the same values
}

}  // namespace
}  // namespace gau
