// Clipping on CUDA against the CPU backend on the same gradients: the norm (squares summed in f64
// on both), the clipped buffers, value clipping, and run-to-run determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "optim/clip.h"
#include "tests/optim/grad_buffers.h"
#include "tests/support/cuda_fixture.h"

namespace gau::optim {
namespace {

class CudaClipTest : public test::CudaTest {};

// Sizes past one block and past the 1024-block grid cap.
std::vector<test::ParamSpec> specs(DType dt) { return {{{7, 5}, dt}, {{3}, dt}, {{1000, 513}, dt}, {{3000001}, dt}}; }

TEST_F(CudaClipTest, NormAndClippedBuffersMatchTheCpu) {
  for (DType dt : {DType::f32, DType::bf16, DType::f16, DType::f64}) {
    test::FlatModel cpu = test::flat_model(specs(dt), Device::cpu(), 1, 1.0, std::nullopt);
    test::FlatModel gpu = test::flat_model(specs(dt), Device::cuda(0), 1, 1.0, std::nullopt);
    const double norm = grad_norm(cpu.flat);
    EXPECT_NEAR(grad_norm(gpu.flat), norm, 1e-6 * norm) << dtype_name(dt);
    EXPECT_NEAR(clip_grad_norm(gpu.flat, norm / 4), clip_grad_norm(cpu.flat, norm / 4), 1e-6 * norm);
    const double tol = test::parity_tol(dt);
    for (size_t g = 0; g < cpu.flat.groups().size(); ++g) {
      GAU_EXPECT_CLOSE(gpu.flat.groups()[g].grads, cpu.flat.groups()[g].grads, tol, tol) << dtype_name(dt);
    }
  }
}

// f32 gradients near 1e20: their squares overflow an f32 sum, not the f64 one, so the norm is
// finite on both backends and clipping happens.
TEST_F(CudaClipTest, HugeF32GradientsHaveAFiniteNorm) {
  test::FlatModel cpu = test::flat_model(specs(DType::f32), Device::cpu(), 4, 1e20);
  test::FlatModel gpu = test::flat_model(specs(DType::f32), Device::cuda(0), 4, 1e20);
  const double norm = grad_norm(cpu.flat);
  ASSERT_TRUE(std::isfinite(norm));
  EXPECT_NEAR(grad_norm(gpu.flat), norm, 1e-6 * norm);
}

TEST_F(CudaClipTest, TheNormIsDeterministic) {
  test::FlatModel gpu = test::flat_model(specs(DType::f32), Device::cuda(0), 2);
  const double first = grad_norm(gpu.flat);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(grad_norm(gpu.flat), first);
}

TEST_F(CudaClipTest, ByValueMatchesTheCpu) {
  for (DType dt : {DType::f32, DType::bf16, DType::f16}) {
    test::FlatModel cpu = test::flat_model(specs(dt), Device::cpu(), 3, 1.0, std::nullopt);
    test::FlatModel gpu = test::flat_model(specs(dt), Device::cuda(0), 3, 1.0, std::nullopt);
    clip_grad_value(cpu.flat, 0.7);
    clip_grad_value(gpu.flat, 0.7);
    for (size_t g = 0; g < cpu.flat.groups().size(); ++g) {
      GAU_EXPECT_CLOSE(gpu.flat.groups()[g].grads, cpu.flat.groups()[g].grads, 0, 0) << dtype_name(dt);
    }
  }
}

}  // namespace
}  // namespace gau::optim
