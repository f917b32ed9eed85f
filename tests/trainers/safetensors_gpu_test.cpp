// safetensors from CUDA tensors: copied to the host and written as the CPU tensors would be.
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/files.h"
#include "trainers/safetensors.h"

namespace gau::trainers {
namespace {

class CudaSafetensorsTest : public test::CudaTest {};

TEST_F(CudaSafetensorsTest, CudaTensorsWriteTheBytesOfTheirHostCopies) {
  test::TempDir dir;
  Generator g(7);
  layers::StateDict cpu = {{"w", ops::randn({33, 17}, DType::f32, Device::cpu(), 0, 1, &g)},
                           {"h", ops::randn({9}, DType::bf16, Device::cpu(), 0, 1, &g)},
                           {"i", ops::arange(0, 12, 1, DType::i64)}};
  layers::StateDict gpu;
  for (const auto& [name, t] : cpu) gpu[name] = test::on_cuda(t);
  // A strided CUDA view is written in row-major order too.
  cpu["t"] = ops::contiguous(ops::transpose(cpu["w"], 0, 1));
  gpu["t"] = ops::transpose(gpu["w"], 0, 1);
  save_safetensors(dir.path() / "cpu.safetensors", cpu);
  save_safetensors(dir.path() / "gpu.safetensors", gpu);
  EXPECT_EQ(test::read_bytes(dir.path() / "gpu.safetensors"), test::read_bytes(dir.path() / "cpu.safetensors"));
}

}  // namespace
}  // namespace gau::trainers
