// MaskedLm over the bidirectional test block (mean_mixer_block.h): config and errors, the loss
// against the cross-entropy of the full logits at the masked rows, padding reaching the blocks,
// gradcheck, and BERT masking (rates, determinism, padding never chosen).
#include "layers/models/masked_lm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"
#include "tests/layers/models/mean_mixer_block.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;

const char* kTiny = "{type: masked_lm, vocab: 13, dim: 6, max_length: 16, blocks: {type: test_mean_mixer}, layers: 2}";

std::shared_ptr<MaskedLm> build_mlm(const std::string& yaml) {
  auto m = std::dynamic_pointer_cast<MaskedLm>(build(YAML::Load(yaml), "model"));
  EXPECT_NE(m, nullptr);
  return m;
}

Tensor ids_of(const std::vector<int64_t>& v, int64_t b, int64_t n) { return ops::from_vector<int64_t>(v, {b, n}); }

TEST(MaskedLm, BuildsABidirectionalStackAndATiedHead) {
  auto mlm = build_mlm(kTiny);
  ASSERT_EQ(mlm->blocks().size(), 2u);
  EXPECT_FALSE(mlm->blocks()[0].is_causal());
  EXPECT_EQ(mlm->blocks()[0].path(), "model.blocks[0]");
  EXPECT_EQ(mlm->options().mask_token, 12);
  std::vector<std::string> names;
  for (const auto& [name, p] : mlm->named_parameters()) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"embed.weight", "blocks.0.proj.weight", "blocks.0.proj.bias",
                                      "blocks.1.proj.weight", "blocks.1.proj.bias", "norm.weight", "head_dense.weight",
                                      "head_dense.bias", "head_norm.weight", "head_norm.bias"}));
  const YAML::Node c = mlm->config();
  EXPECT_EQ(c["head_activation"].as<std::string>(), "gelu");
  EXPECT_EQ(c["head_norm"].as<std::string>(), "layer_norm");
  EXPECT_EQ(YAML::Dump(build(c, "model")->config()), YAML::Dump(c));
  const std::string s = mlm->summary();
  EXPECT_NE(s.find("2 bidirectional blocks, MLM head tied to the embedding"), std::string::npos) << s;
  EXPECT_NE(s.find("head_dense "), std::string::npos) << s;
}

TEST(MaskedLm, ConfigErrors) {
  std::string msg = error_of([] {
    build(YAML::Load("{type: masked_lm, vocab: 9, dim: 4, blocks: {type: test_mean_mixer, causal: true}, layers: 1}"));
  });
  EXPECT_NE(msg.find("model.blocks[0].causal"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bidirectional (an encoder)"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: masked_lm, vocab: 9, dim: 4, blocks: [], mask_token: 9}")); });
  EXPECT_NE(msg.find("model.mask_token"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: masked_lm, vocab: 9, dim: 4, blocks: [], head_activation: tanh}")); });
  EXPECT_NE(msg.find("model.head_activation"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: masked_lm, vocab: 9, dim: 4, blocks: [], tie_embeddings: false}")); });
  EXPECT_NE(msg.find("model.tie_embeddings"), std::string::npos) << msg;
  EXPECT_NE(msg.find("always tied to the embedding table"), std::string::npos) << msg;
  EXPECT_NO_THROW(build(YAML::Load("{type: masked_lm, vocab: 9, dim: 4, blocks: [], tie_embeddings: true}")));
}

TEST(MaskedLm, LossIsTheCrossEntropyOfTheMaskedRows) {
  auto mlm = build_mlm(kTiny);
  mlm->to(Device::cpu(), DType::f64);
  const Tensor ids = ids_of({3, 12, 4, 1, 12, 9, 2, 6, 12, 3, 5, 8}, 2, 6);
  // Row 1 is padded after 4 tokens: its target at position 5 lies in the padding and is not counted.
  const std::vector<int64_t> targets = {-100, 7, -100, -100, 2, -100, -100, -100, 0, -100, -100, 4};
  const SequenceInfo info{ops::from_vector<int64_t>({6, 4}, {2})};
  const Tensor loss = mlm->loss(ids, ids_of(targets, 2, 6), info);
  std::vector<int64_t> counted = targets;
  counted[11] = -100;
  const Tensor logits = mlm->logits(ids, info);
  const Tensor want = gau::cross_entropy(gau::reshape(logits, {12, 13}), ops::from_vector<int64_t>(counted, {12}));
  EXPECT_NEAR(loss.item(), want.item(), 1e-12);
  // By hand from the logits: three rows.
  const std::vector<double> l = test::values(logits);
  double total = 0;
  for (const size_t t : {1, 4, 8}) {
    double s = 0;
    for (size_t c = 0; c < 13; ++c) s += std::exp(l[t * 13 + c]);
    total += std::log(s) - l[t * 13 + static_cast<size_t>(counted[t])];
  }
  EXPECT_NEAR(loss.item(), total / 3, 1e-12);
  // Nothing masked: a zero loss that still back-propagates.
  const Tensor none = mlm->loss(ids, ops::full({2, 6}, -100, DType::i64));
  EXPECT_EQ(none.item(), 0.0);
  none.backward();
  EXPECT_TRUE(mlm->embedding().weight().grad().defined());
}

TEST(MaskedLm, PaddingIsLeftOutOfEveryToken) {
  auto mlm = build_mlm(kTiny);
  NoGradGuard no_grad;
  const Tensor padded = ids_of({3, 1, 4, 1, 5, 9, 2, 6, 7, 7}, 2, 5);
  const std::vector<double> got = test::values(mlm->hidden(padded, {ops::from_vector<int64_t>({5, 3}, {2})}));
  const std::vector<double> alone = test::values(mlm->hidden(ids_of({9, 2, 6}, 1, 3)));
  // Bidirectional: row 1's first three tokens equal the three-token sequence alone, whatever the padding holds.
  const std::vector<double> row1(got.begin() + 5 * 6, got.begin() + 5 * 6 + 3 * 6);
  test::expect_close(row1, alone, 1e-6, "row 1");
  const std::vector<double> unpadded = test::values(mlm->hidden(padded));
  double diff = 0;
  for (size_t i = 5 * 6; i < 5 * 6 + 3 * 6; ++i) diff += std::abs(unpadded[i] - got[i]);
  EXPECT_GT(diff, 1e-3);
}

TEST(MaskedLm, ABidirectionalTransformerPPStackLeavesPaddingOut) {
  auto mlm = build_mlm(
      "{type: masked_lm, vocab: 13, dim: 8, max_length: 16, blocks: {type: transformer_pp, heads: 2, hidden: 12}, "
      "layers: 2}");
  mlm->to(Device::cpu(), DType::f64);
  EXPECT_FALSE(mlm->blocks()[1].is_causal());
  NoGradGuard no_grad;
  const Tensor padded = ids_of({3, 1, 4, 1, 5, 9, 2, 6, 7, 7}, 2, 5);
  const std::vector<double> got = test::values(mlm->hidden(padded, {ops::from_vector<int64_t>({5, 3}, {2})}));
  const std::vector<double> alone = test::values(mlm->hidden(ids_of({9, 2, 6}, 1, 3)));
  const std::vector<double> row1(got.begin() + 5 * 8, got.begin() + 5 * 8 + 3 * 8);
  test::expect_close(row1, alone, 1e-12, "row 1");
}

TEST(MaskedLm, Gradcheck) {
  auto mlm = build_mlm(
      "{type: masked_lm, vocab: 7, dim: 4, blocks: {type: test_mean_mixer}, layers: 2, head_activation: silu}");
  mlm->to(Device::cpu(), DType::f64);
  const Tensor ids = ids_of({1, 6, 2, 6, 0, 5, 3, 4}, 2, 4);
  const Tensor targets = ids_of({-100, 3, -100, 1, 2, -100, -100, 0}, 2, 4);
  const SequenceInfo info{ops::from_vector<int64_t>({4, 3}, {2})};
  EXPECT_TRUE(test::module_gradcheck(*mlm, [&] { return mlm->loss(ids, targets, info); }));
}

TEST(MaskedLm, BertMaskingRatesAndDeterminism) {
  auto mlm = build_mlm("{type: masked_lm, vocab: 50, dim: 4, blocks: []}");
  const int64_t b = 40, n = 500;
  const Tensor ids = example_token_ids(b, n, 49, Device::cpu(), 3);  // ids < 49: the mask token 49 is never an input
  std::vector<int64_t> lengths(b, n);
  lengths[0] = 100;
  const SequenceInfo info{ops::from_vector<int64_t>(lengths, {b})};
  Generator gen(11);
  const MaskedTokens a = mlm->mask(ids, gen, info);
  const MaskedTokens again = mlm->mask(ids, gen, info);  // the generator moved on: other masks
  Generator same(11);
  const MaskedTokens replay = mlm->mask(ids, same, info);
  EXPECT_EQ(test::values(a.inputs), test::values(replay.inputs));
  EXPECT_EQ(test::values(a.targets), test::values(replay.targets));
  EXPECT_NE(test::values(a.targets), test::values(again.targets));
  EXPECT_EQ(a.inputs.dtype(), DType::i64);
  const std::vector<double> orig = test::values(ids), in = test::values(a.inputs), tg = test::values(a.targets);
  double chosen = 0, masked = 0, random = 0, kept = 0, valid = 0;
  for (size_t t = 0; t < orig.size(); ++t) {
    const bool padding = t < static_cast<size_t>(n) && t >= 100;
    if (padding) {
      EXPECT_EQ(tg[t], -100) << t;
      continue;
    }
    ++valid;
    if (tg[t] == -100) {
      ASSERT_EQ(in[t], orig[t]) << t;
      continue;
    }
    ASSERT_EQ(tg[t], orig[t]) << t;
    ++chosen;
    if (in[t] == 49) {
      ++masked;
    } else if (in[t] == orig[t]) {
      ++kept;
    } else {
      ++random;
    }
  }
  // 19,600 valid tokens: about 2,940 chosen; the binomial standard deviations are ~1-2% of each rate.
  EXPECT_NEAR(chosen / valid, 0.15, 0.01);
  EXPECT_NEAR(masked / chosen, 0.8, 0.03);
  // A random replacement draws its own id 1 time in 50, so "kept" holds a little of it.
  EXPECT_NEAR(random / chosen, 0.1 * 49 / 50, 0.02);
  EXPECT_NEAR(kept / chosen, 0.1 + 0.1 / 50, 0.02);
}

TEST(MaskedLm, MaskingChecksItsInput) {
  Generator gen(1);
  MlmMasking opt;
  opt.vocab = 10;
  opt.mask_token = 10;
  EXPECT_NE(error_of([&] {
              mask_tokens(ops::zeros({2, 3}, DType::i64), gen, opt);
            }).find("must be in [0, vocab = 10)"),
            std::string::npos);
  opt.mask_token = 9;
  EXPECT_NE(error_of([&] {
              mask_tokens(ops::zeros({2, 3}), gen, opt);
            }).find("expected token ids [b, n]"),
            std::string::npos);
  opt.mask_fraction = 0.95;
  EXPECT_NE(error_of([&] {
              mask_tokens(ops::zeros({2, 3}, DType::i64), gen, opt);
            }).find("sum <= 1"),
            std::string::npos);
}

}  // namespace
}  // namespace gau::layers
