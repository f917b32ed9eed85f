// Layers on CUDA against the same layers on the CPU: every registered layer from its example
// config (forward, the input's and every parameter's gradient), RoPE from a bf16 model's rebuilt
// table, the Transformer++ block's KV-cache decoding, and MultiHeadAttention through cuDNN.
#include <gtest/gtest.h>

#include <string>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/block.h"
#include "layers/mha.h"
#include "layers/positions.h"
#include "layers/registry.h"
#include "layers/transformer_pp.h"
#include "tests/support/checks.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

class CudaLayersTest : public test::CudaTest {};

std::shared_ptr<Module> build_example(const LayerType& t) {
  YAML::Node node = YAML::Load(t.example_config);
  node["type"] = t.name;
  return build(node, "model." + t.name);
}

TEST_F(CudaLayersTest, EveryRegisteredLayerMatchesTheCpu) {
  for (const LayerType* t : Registry::global().types()) {
    SCOPED_TRACE(t->name);
    std::shared_ptr<Module> cpu = build_example(*t), gpu = build_example(*t);
    gpu->load_state_dict(cpu->state_dict());
    gpu->to(Device::cuda(0));
    const Tensor x = t->example_input(*cpu, 5);
    const bool floating = is_floating(x.dtype());
    const Tensor x_cpu = floating ? ops::clone(x).requires_grad_() : x;
    const Tensor x_gpu = floating ? test::on_cuda(x).requires_grad_() : test::on_cuda(x);
    const Tensor y_cpu = cpu->forward(x_cpu), y_gpu = gpu->forward(x_gpu);
    const Tensor r = test::randn(y_cpu.shape(), y_cpu.dtype(), 6);
    gau::sum(gau::mul(y_cpu, r)).backward();
    gau::sum(gau::mul(y_gpu, test::on_cuda(r))).backward();
    EXPECT_TRUE(y_gpu.is_cuda());
    GAU_EXPECT_CLOSE(y_gpu, y_cpu, 1e-4, 1e-4);
    if (floating) GAU_EXPECT_CLOSE(x_gpu.grad(), x_cpu.grad(), 1e-4, 1e-4);
    const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
    ASSERT_EQ(pc.size(), pg.size());
    for (size_t i = 0; i < pc.size(); ++i)
      EXPECT_TRUE(test::all_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4, 1e-4)) << pc[i].first;
  }
}

TEST_F(CudaLayersTest, RopeOfABf16ModelRebuildsItsTableOnTheDevice) {
  RotaryEmbedding cpu(8, 32), gpu(8, 32);
  gpu.to(Device::cuda(0), DType::bf16);
  const Tensor x = test::randn({2, 5, 8}, DType::bf16, 7);
  const Tensor y = gpu.apply(test::on_cuda(x), 9);
  EXPECT_EQ(gpu.table().dtype(), DType::f32);
  EXPECT_TRUE(gpu.table().is_cuda());
  GAU_EXPECT_CLOSE(y, cpu.apply(ops::to_dtype(x, DType::f32), 9), 2e-2, 2e-2);
}

TEST_F(CudaLayersTest, DecodingOnTheDeviceMatchesTheCpuSequence) {
  for (const char* yaml : {"{type: transformer_pp, dim: 32, heads: 4, hidden: 48, max_length: 64, causal: true}",
                           "{type: gau, dim: 32, e: 48, s: 16, max_length: 64, causal: true}",
                           "{type: flash, dim: 32, e: 48, s: 16, chunk: 5, max_length: 64, causal: true}"}) {
    SCOPED_TRACE(yaml);
    const YAML::Node config = YAML::Load(yaml);
    auto cpu = std::dynamic_pointer_cast<SequenceBlock>(build(config));
    auto gpu = std::dynamic_pointer_cast<SequenceBlock>(build(config));
    ASSERT_TRUE(cpu && gpu);
    gpu->load_state_dict(cpu->state_dict());
    gpu->to(Device::cuda(0));
    const Tensor x = test::randn({2, 12, 32}, DType::f32, 8);
    NoGradGuard no_grad;
    const Tensor full = cpu->forward_sequence(x, {});
    std::unique_ptr<DecodeCache> cache = gpu->start_decoding(2, 12);
    for (int64_t t = 0; t < 12; t += 3)
      GAU_EXPECT_CLOSE(gpu->decode(test::on_cuda(ops::narrow(x, 1, t, 3)), *cache), ops::narrow(full, 1, t, 3), 1e-4,
                       1e-4);
  }
}

#ifdef GAU_WITH_CUDNN
TEST_F(CudaLayersTest, MultiHeadAttentionThroughCudnnMatchesTheCpu) {
  // bf16 with a head width of 64: what cuDNN's SDPA graphs take.
  const std::string keys = "dim: 128, heads: 2, max_length: 64";
  auto cpu = build(YAML::Load("{type: multi_head_attention, " + keys + "}"));
  auto gpu = build(YAML::Load("{type: multi_head_attention, backend: cudnn, " + keys + "}"));
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda(0), DType::bf16);
  cpu->to(Device::cpu(), DType::bf16);
  const Tensor x = test::randn({2, 16, 128}, DType::bf16, 9);
  NoGradGuard no_grad;
  GAU_EXPECT_CLOSE(gpu->forward(test::on_cuda(x)), cpu->forward(x), 3e-2, 3e-2);
}
#endif

}  // namespace
}  // namespace gau::layers
