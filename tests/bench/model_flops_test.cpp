// The model FLOPs behind `gau bench model`'s MFU (bench/model_flops.h): the GEMM weights it counts
// are the models' own weight matrices, so a block that gains or loses a projection fails here;
// and the attention's pair counts agree with counting the (query, key) pairs one by one.
#include "bench/model_flops.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "layers/models/language_model.h"
#include "layers/models/matched_size.h"
#include "layers/registry.h"

using namespace gau;

namespace {

std::shared_ptr<layers::LanguageModel> build_lm(const YAML::Node& config) {
  return std::dynamic_pointer_cast<layers::LanguageModel>(layers::build(config, "model"));
}

// Elements of the 2-D weights, the operands of the model's GEMMs: the (tied) embedding table is
// the logits' weight; norms, biases and scale-offset tables (gamma, beta) are not GEMM weights.
double gemm_weights(const layers::LanguageModel& model) {
  double total = 0;
  for (const auto& [name, p] : model.named_parameters()) {
    const bool weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    if (weight && p.dim() == 2) total += static_cast<double>(p.numel());
  }
  return total;
}

// Causal (query, key) pairs counted one by one: j <= i, and inside one chunk of c when c > 0.
double count_pairs(int64_t n, int64_t c) {
  double pairs = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j)
      if (c == 0 || i / c == j / c) ++pairs;
  return pairs;
}

}  // namespace

TEST(ModelFlops, GemmWeightsAreTheModelsWeightMatrices) {
  layers::MatchedSizeSpec spec;
  spec.vocab = 40;
  spec.dim = 32;
  spec.max_length = 16;
  spec.transformer_layers = 2;
  for (const char* flavour : {"gau", "flash", "transformer_pp"}) {
    auto model = build_lm(layers::matched_size_config(flavour, spec));
    const bench::StepFlops f = bench::language_model_step_flops(*model, 3, 16);
    EXPECT_EQ(f.matmul_params, gemm_weights(*model)) << flavour;
    EXPECT_EQ(f.matmul, 6 * f.matmul_params * 3 * 16) << flavour;
  }
}

TEST(ModelFlops, AttentionCountsEveryCausalPairOnce) {
  const int64_t n = 20, s = 8, e = 12;
  auto gau = build_lm(YAML::Load(
      "{type: language_model, vocab: 10, dim: 6, max_length: 20, layers: 1, blocks: {type: gau, e: 12, s: 8}}"));
  EXPECT_EQ(bench::language_model_step_flops(*gau, 2, n).attention_forward, 2 * count_pairs(n, 0) * 2 * (s + e));

  // Chunks of 7: two whole chunks and a last one of 6 tokens; the linear part is 4 n s e.
  auto flash =
      build_lm(YAML::Load("{type: language_model, vocab: 10, dim: 6, max_length: 20, layers: 1, "
                          "blocks: {type: flash, e: 12, s: 8, chunk: 7}}"));
  EXPECT_EQ(bench::language_model_step_flops(*flash, 1, n).attention_forward,
            count_pairs(n, 7) * 2 * (s + e) + 4.0 * n * s * e);
  auto short_flash =
      build_lm(YAML::Load("{type: language_model, vocab: 10, dim: 6, max_length: 20, layers: 1, "
                          "blocks: {type: flash, e: 12, s: 8, chunk: 64}}"));
  EXPECT_EQ(bench::language_model_step_flops(*short_flash, 1, n).attention_forward,
            count_pairs(n, 0) * 2 * (s + e) + 4.0 * n * s * e);

  // Two heads of 4 over d = 8: q kᵀ and A v, each 2 d wide in all per pair.
  auto tpp =
      build_lm(YAML::Load("{type: language_model, vocab: 10, dim: 8, max_length: 20, layers: 1, "
                          "blocks: {type: transformer_pp, heads: 2, hidden: 16}}"));
  EXPECT_EQ(bench::language_model_step_flops(*tpp, 1, n).attention_forward, count_pairs(n, 0) * 2 * (2 * 8));
}
