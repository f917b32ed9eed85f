// The loss scaler's fused unscale-and-check on CUDA against the CPU: the same unscaled bits, the
// flag raised for an inf or nan anywhere in any buffer (one read per device) and never otherwise.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "optim/loss_scaler.h"
#include "tests/optim/grad_buffers.h"
#include "tests/support/cuda_fixture.h"

namespace gau::optim {
namespace {

using test::on_cuda;

class CudaLossScalerTest : public test::CudaTest {};

TEST_F(CudaLossScalerTest, UnscaleMatchesTheCpuBitwise) {
  for (DType dt : {DType::f32, DType::bf16, DType::f16, DType::f64}) {
    for (double scale : {65536.0, 3.0}) {
      const Tensor cpu = test::randn({3000001}, dt, 1);
      const Tensor gpu = on_cuda(cpu);
      const Tensor found_cpu = ops::zeros({1}, DType::i32), found_gpu = on_cuda(found_cpu);
      unscale_and_check_(cpu, 1.0 / scale, found_cpu);
      unscale_and_check_(gpu, 1.0 / scale, found_gpu);
      GAU_EXPECT_CLOSE(gpu, cpu, 0, 0) << dtype_name(dt) << " scale " << scale;
      EXPECT_EQ(found_gpu.item(), 0);
    }
  }
}

TEST_F(CudaLossScalerTest, FlagsAnInfOrNanInAnyBuffer) {
  for (double bad : {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    for (int64_t at : {int64_t{0}, int64_t{1234567}, int64_t{3000000}}) {
      const Tensor g = on_cuda(test::randn({3000001}, DType::f32, 2));
      ops::fill_(ops::narrow(g, 0, at, 1), bad);
      const Tensor found = ops::zeros({1}, DType::i32, Device::cuda(0));
      unscale_and_check_(g, 0.5, found);
      EXPECT_EQ(found.item(), 1) << bad << " at " << at;
    }
  }
}

TEST_F(CudaLossScalerTest, TheScalerSkipsOnTheGpuAsOnTheCpu) {
  const std::vector<test::ParamSpec> specs = {{{1000, 513}}, {{7}}, {{64, 3}, DType::bf16}};
  for (int inject : {-1, 0, 1}) {
    test::FlatModel cpu = test::flat_model(specs, Device::cpu(), 3);
    test::FlatModel gpu = test::flat_model(specs, Device::cuda(0), 3);
    if (inject >= 0) {
      for (test::FlatModel* m : {&cpu, &gpu}) {
        ops::fill_(ops::narrow(m->flat.groups()[inject].grads, 0, 5, 1), std::numeric_limits<double>::infinity());
      }
    }
    LossScaler a, b;
    EXPECT_EQ(a.unscale_and_check(cpu.flat), inject < 0);
    EXPECT_EQ(b.unscale_and_check(gpu.flat), inject < 0);
    EXPECT_EQ(a.scale_value(), b.scale_value());
    for (size_t g = 0; g < cpu.flat.groups().size(); ++g) {
      GAU_EXPECT_CLOSE(gpu.flat.groups()[g].grads, cpu.flat.groups()[g].grads, 0, 0) << "inject " << inject;
    }
  }
}

}  // namespace
}  // namespace gau::optim
