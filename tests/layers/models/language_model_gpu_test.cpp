// The language model and the masked LM on CUDA against the CPU: loss with padding and ignored
// targets, every gradient into a device flat buffer, decoding, and masking on device ids.
#include <gtest/gtest.h>

#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/flat_parameters.h"
#include "layers/models/language_model.h"
#include "layers/models/masked_lm.h"
#include "layers/registry.h"
#include "tests/layers/models/mean_mixer_block.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

class CudaModelTest : public test::CudaTest {};

// Builds `yaml` twice with the same weights, the second on cuda:0.
template <typename M>
std::pair<std::shared_ptr<M>, std::shared_ptr<M>> cpu_and_gpu(const char* yaml) {
  auto cpu = std::dynamic_pointer_cast<M>(build(YAML::Load(yaml), "model"));
  auto gpu = std::dynamic_pointer_cast<M>(build(YAML::Load(yaml), "model"));
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda(0));
  return {cpu, gpu};
}

TEST_F(CudaModelTest, LanguageModelLossGradientsAndDecodingMatchTheCpu) {
  auto [cpu, gpu] = cpu_and_gpu<LanguageModel>(
      "{type: language_model, vocab: 40, dim: 16, blocks: {type: test_mean_mixer}, layers: 2, loss_chunk_rows: 5}");
  FlatParameters flat(*gpu);
  const Tensor ids = example_token_ids(3, 9, 40, Device::cpu(), 1);
  std::vector<int64_t> t(27);
  for (size_t i = 0; i < t.size(); ++i) t[i] = i % 5 == 0 ? -100 : static_cast<int64_t>(i * 3 % 40);
  const Tensor targets = ops::from_vector<int64_t>(t, {3, 9});
  const Tensor lengths = ops::from_vector<int64_t>({9, 4, 7}, {3});
  const Tensor l_cpu = cpu->loss(ids, targets, {lengths});
  const Tensor l_gpu = gpu->loss(test::on_cuda(ids), test::on_cuda(targets), {test::on_cuda(lengths)});
  EXPECT_NEAR(l_gpu.item(), l_cpu.item(), 1e-5);
  l_cpu.backward();
  l_gpu.backward();
  const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  for (size_t i = 0; i < pc.size(); ++i) {
    EXPECT_EQ(pg[i].second.grad().storage(), flat.groups()[0].grads.storage()) << pg[i].first;
    EXPECT_TRUE(test::all_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4, 1e-4)) << pg[i].first;
  }
  LanguageModelCache cache = gpu->start_decoding(3, 9);
  std::vector<Tensor> steps;
  for (int64_t at = 0; at < 9; at += 3)
    steps.push_back(gpu->decode_logits(test::on_cuda(gau::narrow(ids, 1, at, 3)), cache));
  NoGradGuard no_grad;
  EXPECT_TRUE(test::all_close(gau::cat(steps, 1), cpu->logits(ids), 1e-4, 1e-4));
}

TEST_F(CudaModelTest, MaskedLmLossAndMaskingMatchTheCpu) {
  auto [cpu, gpu] =
      cpu_and_gpu<MaskedLm>("{type: masked_lm, vocab: 40, dim: 16, blocks: {type: test_mean_mixer}, layers: 2}");
  const Tensor ids = example_token_ids(3, 9, 39, Device::cpu(), 2);
  const Tensor lengths = ops::from_vector<int64_t>({9, 4, 7}, {3});
  Generator g_cpu(5), g_gpu(5);
  const MaskedTokens m_cpu = cpu->mask(ids, g_cpu, {lengths});
  const MaskedTokens m_gpu = gpu->mask(test::on_cuda(ids), g_gpu, {test::on_cuda(lengths)});
  EXPECT_TRUE(m_gpu.inputs.is_cuda());
  EXPECT_EQ(test::values(m_gpu.inputs), test::values(m_cpu.inputs));
  EXPECT_EQ(test::values(m_gpu.targets), test::values(m_cpu.targets));
  const Tensor l_cpu = cpu->loss(m_cpu.inputs, m_cpu.targets, {lengths});
  const Tensor l_gpu = gpu->loss(m_gpu.inputs, m_gpu.targets, {test::on_cuda(lengths)});
  EXPECT_NEAR(l_gpu.item(), l_cpu.item(), 1e-5);
  l_cpu.backward();
  l_gpu.backward();
  const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  for (size_t i = 0; i < pc.size(); ++i)
    EXPECT_TRUE(test::all_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4, 1e-4)) << pg[i].first;
}

}  // namespace
}  // namespace gau::layers
