// Sampling and incremental generation: deterministic under a seed, the top-k/top-p cuts and
// greedy decoding as specified, and generation through each block's decode cache equal to
// greedy decoding by the full forward (for FLASH across chunk boundaries).
#include "trainers/generate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/ops/factory.h"
#include "core/rng.h"
#include "layers/models/language_model.h"
#include "layers/registry.h"
#include "trainers/objective.h"

namespace gau::trainers {
namespace {

TEST(SampleToken, GreedyTakesTheLargestAndTheLowestOnATie) {
  const std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(sample_token(logits, {.temperature = 0}, 0), 1);
}

TEST(SampleToken, FollowsTheSoftmaxAndTheSeed) {
  const std::vector<float> logits = {0.0f, std::log(3.0f)};  // p = 1/4, 3/4
  Sampling s{.temperature = 1.0, .seed = 11};
  int ones = 0;
  for (uint64_t i = 0; i < 20000; ++i) ones += sample_token(logits, s, i) == 1;
  EXPECT_NEAR(ones / 20000.0, 0.75, 0.015);
  for (uint64_t i = 0; i < 50; ++i) EXPECT_EQ(sample_token(logits, s, i), sample_token(logits, s, i));
}

TEST(SampleToken, TopKAndTopPCut) {
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
  std::map<int32_t, int> seen;
  for (uint64_t i = 0; i < 2000; ++i) ++seen[sample_token(logits, {.top_k = 2, .seed = 5}, i)];
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_GT(seen[0], seen[1]);
  // p = softmax: 0.644, 0.237, 0.087, 0.032. top_p 0.85 keeps the first two (0.881 >= 0.85).
  seen.clear();
  for (uint64_t i = 0; i < 2000; ++i) ++seen[sample_token(logits, {.top_p = 0.85, .seed = 5}, i)];
  EXPECT_EQ(seen.size(), 2u);
  seen.clear();
  for (uint64_t i = 0; i < 200; ++i) ++seen[sample_token(logits, {.top_p = 0.5, .seed = 5}, i)];
  EXPECT_EQ(seen.size(), 1u);
}

TEST(SampleToken, BadOptionsAreErrors) {
  EXPECT_THROW(check_sampling({.temperature = -1}), Error);
  EXPECT_THROW(check_sampling({.top_p = 0}), Error);
  EXPECT_THROW(check_sampling({.top_k = -2}), Error);
}

std::shared_ptr<layers::LanguageModel> tiny_model(const std::string& blocks, uint64_t seed) {
  manual_seed(seed);
  const YAML::Node config = YAML::Load("{type: language_model, vocab: 40, dim: 32, max_length: 48, layers: 2, blocks: " +
                                       blocks + "}");
  return std::dynamic_pointer_cast<layers::LanguageModel>(layers::build(config, "model"));
}

// Greedy continuation by running the whole sequence through logits() for every new token.
std::vector<int32_t> greedy_by_full_forward(layers::LanguageModel& lm, std::vector<int32_t> ids, int64_t count) {
  std::vector<int32_t> out;
  for (int64_t t = 0; t < count; ++t) {
    const std::vector<int64_t> ids64(ids.begin(), ids.end());
    const Tensor logits = lm.logits(ops::from_vector(ids64, {1, static_cast<int64_t>(ids.size())}));
    const int64_t vocab = logits.shape().back();
    const float* last = logits.data<float>() + (static_cast<int64_t>(ids.size()) - 1) * vocab;
    const int32_t next = sample_token(std::span<const float>(last, vocab), {.temperature = 0}, 0);
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}

TEST(Generate, IncrementalDecodingMatchesTheFullForward) {
  for (const std::string blocks : {"{type: flash, chunk: 8, s: 16}", "{type: gau, s: 16}", "{type: transformer_pp, heads: 2}"}) {
    auto lm = tiny_model(blocks, 7);
    lm->eval();
    const std::vector<int32_t> prompt = {3, 9, 27, 1, 5};
    // 30 tokens from a 5-token prompt cross several FLASH chunks of 8.
    const Generated g = generate(*lm, prompt, {.max_tokens = 30, .temperature = 0}, Device::cpu());
    EXPECT_EQ(g.tokens, greedy_by_full_forward(*lm, prompt, 30)) << blocks;
  }
}

TEST(Generate, DeterministicUnderASeedAndStopsAtMaxLength) {
  auto lm = tiny_model("{type: flash, chunk: 8, s: 16}", 9);
  const Sampling s{.max_tokens = 20, .temperature = 1.0, .top_k = 10, .seed = 42};
  const Generated a = generate(*lm, {1, 2, 3}, s, Device::cpu());
  const Generated b = generate(*lm, {1, 2, 3}, s, Device::cpu());
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.tokens.size(), 20u);
  Sampling other = s;
  other.seed = 43;
  EXPECT_NE(generate(*lm, {1, 2, 3}, other, Device::cpu()).tokens, a.tokens);
  // 45 prompt tokens leave room for 3 of a 48-token model.
  const Generated full = generate(*lm, std::vector<int32_t>(45, 4), s, Device::cpu());
  EXPECT_TRUE(full.hit_max_length);
  EXPECT_EQ(full.tokens.size(), 3u);
  EXPECT_THROW(generate(*lm, {}, s, Device::cpu()), Error);
  EXPECT_THROW(generate(*lm, {40}, s, Device::cpu()), Error);
}

// A model whose vocabulary pads the tokenizer's draws only the tokenizer's ids.
TEST(Generate, VocabLimitKeepsToTheTokenizersIds) {
  auto lm = tiny_model("{type: gau, s: 16}", 11);
  const Sampling free{.max_tokens = 40, .temperature = 2.0, .seed = 3};
  const Generated unlimited = generate(*lm, {1, 2}, free, Device::cpu());
  ASSERT_TRUE(std::any_of(unlimited.tokens.begin(), unlimited.tokens.end(), [](int32_t id) { return id >= 8; }))
      << "the test needs ids beyond the limit to be drawn without it";
  for (const double temperature : {0.0, 2.0}) {
    Sampling limited = free;
    limited.temperature = temperature;
    limited.vocab_limit = 8;
    for (const int32_t id : generate(*lm, {1, 2}, limited, Device::cpu()).tokens) EXPECT_LT(id, 8) << temperature;
  }
}

}  // namespace
}  // namespace gau::trainers
