// Modules on CUDA: to(cuda) keeps the layers' members working, flattening on the device puts
// parameters and gradients in device buffers, and forward/backward match the CPU model.
#include <gtest/gtest.h>

#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/flat_parameters.h"
#include "layers/registry.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

class CudaModuleTest : public test::CudaTest {};

TEST_F(CudaModuleTest, MovedAndFlattenedModelMatchesTheCpu) {
  const YAML::Node config = YAML::Load(
      "{type: sequential, layers: [{type: embedding, vocab: 50, dim: 32}, {type: linear, in: 32, out: 24},"
      " {type: fused_linear, in: 24, outputs: {u: 16, z: 8}}]}");
  auto cpu = build(config), gpu = build(config);
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda(0));
  FlatParameters flat(*gpu);
  ASSERT_EQ(flat.groups().size(), 1u);
  EXPECT_TRUE(flat.groups()[0].params.is_cuda());
  std::vector<int64_t> id_values(36);
  for (size_t i = 0; i < id_values.size(); ++i) id_values[i] = static_cast<int64_t>(i * 7 % 50);
  const Tensor ids = ops::from_vector<int64_t>(id_values, {4, 9});
  const Tensor r = test::randn({4, 9, 24}, DType::f32, 2);
  Tensor y_cpu = cpu->forward(ids);
  Tensor y_gpu = gpu->forward(test::on_cuda(ids));
  gau::sum(gau::mul(y_cpu, r)).backward();
  gau::sum(gau::mul(y_gpu, test::on_cuda(r))).backward();
  GAU_EXPECT_CLOSE(y_gpu, y_cpu, 1e-4, 1e-4);
  const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  for (size_t i = 0; i < pc.size(); ++i) {
    EXPECT_EQ(pg[i].second.grad().storage(), flat.groups()[0].grads.storage()) << pg[i].first;
    EXPECT_TRUE(test::all_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4, 1e-4)) << pg[i].first;
  }
}

}  // namespace
}  // namespace gau::layers
