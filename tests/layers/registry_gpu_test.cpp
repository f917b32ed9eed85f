// Every registered layer on CUDA against the CPU: built from its example config, the CPU weights
// copied over, the same example input; the output and every parameter's and the input's gradient
// must agree. New layers enrol by registering, as in registry_test.cpp.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "layers/registry.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

class CudaRegistryTest : public test::CudaTest {};

TEST_F(CudaRegistryTest, EveryLayerMatchesTheCpu) {
  for (const LayerType* type : Registry::global().types()) {
    SCOPED_TRACE(type->name);
    YAML::Node config = YAML::Load(type->example_config);
    config["type"] = type->name;
    auto cpu = build(config), gpu = build(config);
    gpu->load_state_dict(cpu->state_dict());
    gpu->to(Device::cuda(0));
    cpu->eval();  // dropout off: the layers' own dropout is tested apart
    gpu->eval();
    Tensor x_cpu = type->example_input(*cpu, 7), x_gpu = type->example_input(*gpu, 7);
    const bool floating = is_floating(x_cpu.dtype());
    if (floating) {
      x_cpu.requires_grad_();
      x_gpu.requires_grad_();
    }
    Tensor y_cpu = cpu->forward(x_cpu), y_gpu = gpu->forward(x_gpu);
    Tensor r = test::randn(y_cpu.shape(), y_cpu.dtype(), 3);
    gau::sum(gau::mul(y_cpu, r)).backward();
    gau::sum(gau::mul(y_gpu, test::on_cuda(r))).backward();
    GAU_EXPECT_CLOSE(y_gpu, y_cpu, 1e-4, 1e-4);
    if (floating) GAU_EXPECT_CLOSE(x_gpu.grad(), x_cpu.grad(), 1e-4, 1e-4);
    const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
    ASSERT_EQ(pc.size(), pg.size());
    for (size_t i = 0; i < pc.size(); ++i)
      EXPECT_TRUE(test::all_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4, 1e-4)) << pc[i].first;
  }
}

}  // namespace
}  // namespace gau::layers
