// LanguageModel over the test block (mean_mixer_block.h): config, paths and errors; loss and
// logits against a naive f64 reference; chunked and untied losses; gradcheck; decoding token by
// token and in chunks against the full causal forward; padding; flat parameter buffers.
#include "layers/models/language_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/flat_parameters.h"
#include "layers/module_summary.h"
#include "layers/registry.h"
#include "tests/layers/models/mean_mixer_block.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;

std::shared_ptr<LanguageModel> build_lm(const std::string& yaml) {
  auto m = std::dynamic_pointer_cast<LanguageModel>(build(YAML::Load(yaml), "model"));
  EXPECT_NE(m, nullptr);
  return m;
}

const char* kTiny =
    "{type: language_model, vocab: 13, dim: 6, max_length: 16, blocks: {type: test_mean_mixer}, layers: 2}";

Tensor ids_of(const std::vector<int64_t>& v, int64_t b, int64_t n) { return ops::from_vector<int64_t>(v, {b, n}); }

TEST(LanguageModel, BuildsTheStackWithDimAndCausalSet) {
  auto lm = build_lm(kTiny);
  ASSERT_EQ(lm->blocks().size(), 2u);
  EXPECT_EQ(lm->blocks()[1].path(), "model.blocks[1]");
  EXPECT_EQ(lm->blocks()[1].width(), 6);
  EXPECT_TRUE(lm->blocks()[1].is_causal());
  std::vector<std::string> names;
  for (const auto& [name, p] : lm->named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"embed.weight", "blocks.0.proj.weight", "blocks.0.proj.bias",
                                             "blocks.1.proj.weight", "blocks.1.proj.bias", "norm.weight"}));
  EXPECT_TRUE(lm->output_weight().same(lm->embedding().weight()));
  // config(): the blocks as written (the model's own keys left out), defaults filled in.
  const YAML::Node c = lm->config();
  EXPECT_FALSE(c["blocks"]["dim"]);
  EXPECT_EQ(c["layers"].as<int64_t>(), 2);
  EXPECT_EQ(c["final_norm"].as<std::string>(), "rms_norm");
  EXPECT_TRUE(c["tie_embeddings"].as<bool>());
  EXPECT_EQ(c["loss_chunk_rows"].as<int64_t>(), 2048);
  auto again = std::dynamic_pointer_cast<LanguageModel>(build(c, "model"));
  EXPECT_EQ(YAML::Dump(again->config()), YAML::Dump(c));
  EXPECT_EQ(again->parameter_count(), lm->parameter_count());
}

TEST(LanguageModel, AListOfBlocksBuildsOnePerEntry) {
  auto lm = build_lm(
      "{type: language_model, vocab: 9, dim: 4, blocks: [{type: test_mean_mixer}, {type: test_mean_mixer, dim: 4, "
      "causal: true}, {type: test_mean_mixer}], final_norm: none, tie_embeddings: false}");
  EXPECT_EQ(lm->blocks().size(), 3u);
  EXPECT_EQ(lm->config()["layers"].as<int64_t>(), 3);
  EXPECT_EQ(lm->config()["blocks"].size(), 3u);
  EXPECT_FALSE(lm->output_weight().same(lm->embedding().weight()));
  // embedding 9x4, three blocks of 4x4 + 4, an untied head 9x4, no norm.
  EXPECT_EQ(lm->parameter_count(), 36 + 3 * 20 + 36);
}

TEST(LanguageModel, ConfigErrorsNameThePath) {
  std::string msg = error_of([] {
    build(YAML::Load("{type: language_model, vocab: 9, dim: 4, blocks: {type: test_mean_mixer, dim: 8}, layers: 2}"));
  });
  EXPECT_NE(msg.find("model.blocks[0].dim (line 1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("but the model's dim is 4; leave it out"), std::string::npos) << msg;
  msg = error_of([] {
    build(YAML::Load("{type: language_model, vocab: 9, dim: 4, blocks: [{type: test_mean_mixer, causal: false}]}"));
  });
  EXPECT_NE(msg.find("model.blocks[0].causal"), std::string::npos) << msg;
  EXPECT_NE(msg.find("causal (a language model)"), std::string::npos) << msg;
  msg = error_of(
      [] { build(YAML::Load("{type: language_model, vocab: 9, dim: 4, blocks: [{type: linear, in: 4, out: 4}]}")); });
  EXPECT_NE(msg.find("model.blocks[0]"), std::string::npos) << msg;
  msg =
      error_of([] { build(YAML::Load("{type: language_model, vocab: 9, dim: 4, blocks: {type: test_mean_mixer}}")); });
  EXPECT_NE(msg.find("model.layers"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing required key 'layers'"), std::string::npos) << msg;
  msg = error_of([] {
    build(YAML::Load("{type: language_model, vocab: 9, dim: 4, blocks: [{type: test_mean_mixer}], layers: 2}"));
  });
  EXPECT_NE(msg.find("model.layers"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lists 1 blocks"), std::string::npos) << msg;
  msg = error_of([] {
    build(YAML::Load(
        "{type: language_model, vocab: 9, dim: 4, blocks: [{type: test_mean_mixer}], final_norm: rms_nrom}"));
  });
  EXPECT_NE(msg.find("model.final_norm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'rms_norm'?"), std::string::npos) << msg;
  msg = error_of([] {
    build(YAML::Load("{type: language_model, vocab: 9, dim: 4, blocks: [{type: test_mean_mixer, widht: 3}]}"));
  });
  EXPECT_NE(msg.find("model.blocks[0].widht"), std::string::npos) << msg;
}

TEST(LanguageModel, BadInputNamesTheModel) {
  auto lm = build_lm(kTiny);
  std::string msg = error_of([&] { lm->hidden(ops::zeros({2, 3})); });
  EXPECT_NE(msg.find("LanguageModel 'model': expected token ids [b, n] (i32 or i64), got f32[2, 3]"), std::string::npos)
      << msg;
  msg = error_of([&] { lm->hidden(ops::zeros({1, 17}, DType::i64)); });
  EXPECT_NE(msg.find("sequence length 17 is outside [1, max_length = 16]"), std::string::npos) << msg;
  msg = error_of([&] { lm->loss(ops::zeros({2, 3}, DType::i64), ops::zeros({2, 4}, DType::i64)); });
  EXPECT_NE(msg.find("loss expects targets shaped like the ids"), std::string::npos) << msg;
  msg = error_of([&] { lm->hidden(ops::zeros({2, 3}, DType::i64), {ops::zeros({3}, DType::i64)}); });
  EXPECT_NE(msg.find("key_lengths must be [2]"), std::string::npos) << msg;
  msg = error_of([&] { lm->start_decoding(2, 17); });
  EXPECT_NE(msg.find("max_length in [1, 16]"), std::string::npos) << msg;
}

// The naive f64 model: embedding rows, each test block by its definition, RMSNorm, logits h Eᵀ,
// cross-entropy over the counted rows.
struct Reference {
  int64_t v, d;
  std::vector<double> table, norm;
  std::vector<std::vector<double>> w, bias;

  explicit Reference(const LanguageModel& lm) : v(lm.options().vocab), d(lm.options().dim) {
    table = test::values(lm.embedding().weight());
    for (const auto& block : lm.blocks().blocks()) {
      const auto& mixer = dynamic_cast<const TestMeanMixer&>(*block);
      w.push_back(test::values(mixer.proj().weight()));
      bias.push_back(test::values(mixer.proj().bias()));
    }
    for (const auto& [name, p] : lm.named_parameters())
      if (name == "norm.weight") norm = test::values(p);
  }

  // ids [b, n], lengths [b] -> logits [b, n, v]
  std::vector<double> logits(const std::vector<int64_t>& ids, int64_t b, int64_t n,
                             const std::vector<int64_t>& lengths) const {
    const auto at = [&](int64_t r, int64_t i) { return static_cast<size_t>((r * n + i) * d); };
    std::vector<double> h(static_cast<size_t>(b * n * d));
    for (int64_t t = 0; t < b * n; ++t)
      for (int64_t k = 0; k < d; ++k) h[static_cast<size_t>(t * d + k)] = table[static_cast<size_t>(ids[t] * d + k)];
    for (size_t l = 0; l < w.size(); ++l) {
      std::vector<double> out = h;
      for (int64_t r = 0; r < b; ++r)
        for (int64_t i = 0; i < n; ++i) {
          std::vector<double> m(static_cast<size_t>(d), 0.0);
          int64_t count = 0;
          for (int64_t j = 0; j <= i && j < lengths[r]; ++j, ++count)
            for (int64_t k = 0; k < d; ++k) m[k] += h[at(r, j) + k];
          for (int64_t k = 0; k < d; ++k) m[k] = count ? m[k] / count : 0.0, m[k] = m[k] / (1 + std::exp(-m[k]));
          for (int64_t o = 0; o < d; ++o) {
            double acc = bias[l][o];
            for (int64_t k = 0; k < d; ++k) acc += w[l][o * d + k] * m[k];
            out[at(r, i) + o] += acc;
          }
        }
      h = out;
    }
    std::vector<double> logits;
    for (int64_t t = 0; t < b * n; ++t) {
      double sq = 0;
      for (int64_t k = 0; k < d; ++k) sq += h[t * d + k] * h[t * d + k];
      const double inv = 1 / std::sqrt(sq / d + 1e-5);
      for (int64_t c = 0; c < v; ++c) {
        double acc = 0;
        for (int64_t k = 0; k < d; ++k) acc += h[t * d + k] * inv * norm[k] * table[c * d + k];
        logits.push_back(acc);
      }
    }
    return logits;
  }

  double loss(const std::vector<double>& logits, const std::vector<int64_t>& targets, int64_t n,
              const std::vector<int64_t>& lengths) const {
    double total = 0;
    int64_t count = 0;
    for (size_t t = 0; t < targets.size(); ++t) {
      if (targets[t] == -100 || static_cast<int64_t>(t) % n >= lengths[t / n]) continue;
      double mx = -1e300, s = 0;
      for (int64_t c = 0; c < v; ++c) mx = std::max(mx, logits[t * v + c]);
      for (int64_t c = 0; c < v; ++c) s += std::exp(logits[t * v + c] - mx);
      total += mx + std::log(s) - logits[t * v + targets[t]];
      ++count;
    }
    return total / count;
  }
};

TEST(LanguageModel, LossAndLogitsMatchTheNaiveReference) {
  auto lm = build_lm(kTiny);
  lm->to(Device::cpu(), DType::f64);
  const std::vector<int64_t> ids = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};  // [2, 6]
  const std::vector<int64_t> targets = {1, 4, 1, 5, 9, -100, 6, 5, 3, 5, 8, 12};
  const std::vector<int64_t> lengths = {6, 4};  // row 1 is padded after 4 tokens
  const SequenceInfo info{ops::from_vector<int64_t>(lengths, {2})};
  const Reference ref(*lm);
  const std::vector<double> want_logits = ref.logits(ids, 2, 6, lengths);
  test::expect_close(lm->logits(ids_of(ids, 2, 6), info), want_logits, 1e-12, "logits");
  const Tensor loss = lm->loss(ids_of(ids, 2, 6), ids_of(targets, 2, 6), info);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item(), ref.loss(want_logits, targets, 6, lengths), 1e-12);
  // Without key_lengths every listed target counts.
  EXPECT_NEAR(lm->loss(ids_of(ids, 2, 6), ids_of(targets, 2, 6)).item(),
              ref.loss(ref.logits(ids, 2, 6, {6, 6}), targets, 6, {6, 6}), 1e-12);
}

TEST(LanguageModel, ChunkedLossEqualsTheWholeLossAndTheLogitsCrossEntropy) {
  for (const bool tied : {true, false}) {
    SCOPED_TRACE(tied ? "tied" : "untied");
    const std::string yaml =
        std::string("{type: language_model, vocab: 13, dim: 6, blocks: {type: test_mean_mixer}, ") +
        "layers: 2, final_norm: layer_norm, tie_embeddings: " + (tied ? "true" : "false");
    auto whole = build_lm(yaml + ", loss_chunk_rows: 0}");
    auto chunked = build_lm(yaml + ", loss_chunk_rows: 4}");
    whole->to(Device::cpu(), DType::f64);
    chunked->to(Device::cpu(), DType::f64);
    chunked->load_state_dict(whole->state_dict());
    const Tensor ids = example_token_ids(3, 7, 13, Device::cpu(), 4);
    const Tensor targets = example_token_ids(3, 7, 13, Device::cpu(), 5);
    const Tensor from_logits =
        gau::cross_entropy(gau::reshape(whole->logits(ids), {21, 13}), gau::reshape(targets, {21}));
    const Tensor a = whole->loss(ids, targets), b = chunked->loss(ids, targets);
    EXPECT_NEAR(a.item(), from_logits.item(), 1e-12);
    EXPECT_NEAR(b.item(), a.item(), 1e-12);
    a.backward();
    b.backward();
    const auto pa = whole->named_parameters(), pb = chunked->named_parameters();
    ASSERT_EQ(pa.size(), tied ? 7u : 8u);
    for (size_t i = 0; i < pa.size(); ++i)
      test::expect_close(pb[i].second.grad(), test::values(pa[i].second.grad()), 1e-12, pa[i].first);
  }
}

TEST(LanguageModel, Gradcheck) {
  for (const char* norm : {"rms_norm", "layer_norm", "scale_norm", "none"}) {
    SCOPED_TRACE(norm);
    auto lm = build_lm(std::string("{type: language_model, vocab: 7, dim: 4, blocks: {type: test_mean_mixer}, layers: "
                                   "2, tie_embeddings: false, final_norm: ") +
                       norm + "}");
    lm->to(Device::cpu(), DType::f64);
    const Tensor ids = ids_of({1, 6, 2, 2, 0, 5, 3, 4}, 2, 4);
    const Tensor targets = ids_of({6, 2, -100, 0, 5, 3, 4, 1}, 2, 4);
    const SequenceInfo info{ops::from_vector<int64_t>({4, 3}, {2})};
    EXPECT_TRUE(test::module_gradcheck(*lm, [&] { return lm->loss(ids, targets, info); }));
  }
}

TEST(LanguageModel, DecodingMatchesTheFullCausalForward) {
  auto lm = build_lm(kTiny);
  lm->to(Device::cpu(), DType::f64);
  const int64_t b = 2, n = 8;
  const Tensor ids = example_token_ids(b, n, 13, Device::cpu(), 7);
  const std::vector<double> full = test::values(lm->logits(ids));  // [b, n, V]
  for (const int64_t step : {1, 3}) {
    SCOPED_TRACE(step);
    LanguageModelCache cache = lm->start_decoding(b, n);
    ASSERT_EQ(cache.blocks.size(), 2u);
    for (int64_t at = 0; at < n; at += step) {
      const int64_t m = std::min(step, n - at);
      const Tensor got = lm->decode_logits(gau::narrow(ids, 1, at, m), cache);
      ASSERT_EQ(got.shape(), (Shape{b, m, 13}));
      EXPECT_FALSE(got.requires_grad());
      std::vector<double> want;
      for (int64_t r = 0; r < b; ++r)
        for (int64_t i = at; i < at + m; ++i)
          for (int64_t c = 0; c < 13; ++c) want.push_back(full[static_cast<size_t>((r * n + i) * 13 + c)]);
      test::expect_close(got, want, 1e-12, "logits at " + std::to_string(at));
    }
    EXPECT_EQ(cache.position, n);
    EXPECT_NE(error_of([&] { lm->decode_logits(gau::narrow(ids, 1, 0, 1), cache); }).find("at position 8"),
              std::string::npos);
  }
}

// The same contract over the library's Transformer++ block (layers/transformer_pp.h): decoding
// through its KV caches, gradients, and padding that leaves a causal model's valid rows alone.
std::string tpp_lm(int64_t dim, int64_t heads, int64_t hidden) {
  return "{type: language_model, vocab: 11, dim: " + std::to_string(dim) +
         ", max_length: 16, blocks: {type: " + "transformer_pp, heads: " + std::to_string(heads) +
         ", hidden: " + std::to_string(hidden) + ", max_length: 16}, layers: 2}";
}

TEST(LanguageModel, TransformerPPStackDecodesAsTheFullForward) {
  auto lm = build_lm(tpp_lm(8, 2, 12));
  lm->to(Device::cpu(), DType::f64);
  const int64_t b = 2, n = 7;
  const Tensor ids = example_token_ids(b, n, 11, Device::cpu(), 12);
  const std::vector<double> full = test::values(lm->logits(ids));
  for (const int64_t step : {1, 3}) {
    SCOPED_TRACE(step);
    LanguageModelCache cache = lm->start_decoding(b, n);
    std::vector<double> got(full.size());
    for (int64_t at = 0; at < n; at += step) {
      const int64_t m = std::min(step, n - at);
      const std::vector<double> part = test::values(lm->decode_logits(gau::narrow(ids, 1, at, m), cache));
      for (int64_t r = 0; r < b; ++r)
        for (int64_t i = 0; i < m; ++i)
          for (int64_t c = 0; c < 11; ++c)
            got[static_cast<size_t>((r * n + at + i) * 11 + c)] = part[static_cast<size_t>((r * m + i) * 11 + c)];
    }
    test::expect_close(got, full, 1e-10, "decoded logits");
  }
}

TEST(LanguageModel, TransformerPPStackGradcheck) {
  auto lm = build_lm(tpp_lm(4, 1, 8));
  lm->to(Device::cpu(), DType::f64);
  const Tensor ids = ids_of({1, 6, 2, 2, 0, 5}, 2, 3);
  const Tensor targets = ids_of({6, 2, 9, 0, 5, 3}, 2, 3);
  const SequenceInfo info{ops::from_vector<int64_t>({3, 2}, {2})};
  EXPECT_TRUE(test::module_gradcheck(*lm, [&] { return lm->loss(ids, targets, info); }));
}

TEST(LanguageModel, TransformerPPPaddingLeavesTheValidRowsAlone) {
  auto lm = build_lm(tpp_lm(8, 2, 12));
  lm->to(Device::cpu(), DType::f64);
  const Tensor ids = example_token_ids(2, 6, 11, Device::cpu(), 13);
  const Tensor targets = example_token_ids(2, 6, 11, Device::cpu(), 14);
  const SequenceInfo info{ops::from_vector<int64_t>({6, 2}, {2})};
  const std::vector<double> plain = test::values(lm->logits(ids)), padded = test::values(lm->logits(ids, info));
  // Row 0 and row 1's two valid tokens are as without padding; row 1's padded queries see two keys only.
  for (size_t i = 0; i < 8 * 11; ++i) EXPECT_NEAR(padded[i], plain[i], 1e-12) << i;
  double diff = 0;
  for (size_t i = 8 * 11; i < plain.size(); ++i) diff += std::abs(padded[i] - plain[i]);
  EXPECT_GT(diff, 1e-6);
  std::vector<double> t = test::values(targets);
  std::vector<int64_t> ignored(t.begin(), t.end());
  for (size_t i = 8; i < 12; ++i) ignored[i] = -100;
  EXPECT_NEAR(lm->loss(ids, targets, info).item(), lm->loss(ids, ids_of(ignored, 2, 6)).item(), 1e-12);
}

TEST(LanguageModel, KeyLengthsReachTheBlocks) {
  auto lm = build_lm(kTiny);
  const Tensor ids = example_token_ids(2, 5, 13, Device::cpu(), 8);
  NoGradGuard no_grad;
  const std::vector<double> plain = test::values(lm->hidden(ids));
  const std::vector<double> padded = test::values(lm->hidden(ids, {ops::from_vector<int64_t>({5, 3}, {2})}));
  // Row 0 and row 1's first three tokens are untouched; row 1's padded positions see 3 tokens, not 4 and 5.
  const size_t row = 5 * 6;
  for (size_t i = 0; i < row + 3 * 6; ++i) EXPECT_EQ(padded[i], plain[i]) << i;
  double diff = 0;
  for (size_t i = row + 3 * 6; i < 2 * row; ++i) diff += std::abs(padded[i] - plain[i]);
  EXPECT_GT(diff, 1e-3);
}

TEST(LanguageModel, FlatBuffersHoldEveryGradientAndTheTiedTableOnce) {
  auto lm = build_lm(kTiny);
  auto copy = build_lm(kTiny);
  copy->load_state_dict(lm->state_dict());
  FlatParameters flat(*lm);
  ASSERT_EQ(flat.groups().size(), 1u);
  const FlatGroup& g = flat.groups()[0];
  EXPECT_EQ(g.entries.size(), lm->named_parameters().size());
  int64_t held = 0, table_entries = 0;
  for (const FlatEntry& e : g.entries) {
    held += e.numel;
    table_entries += e.param.same(lm->embedding().weight()) ? 1 : 0;
  }
  EXPECT_EQ(held, lm->parameter_count());
  EXPECT_EQ(table_entries, 1);
  const Tensor ids = example_token_ids(2, 6, 13, Device::cpu(), 9);
  const Tensor targets = example_token_ids(2, 6, 13, Device::cpu(), 10);
  lm->loss(ids, targets).backward();
  copy->loss(ids, targets).backward();
  EXPECT_TRUE(flat.bound());
  const std::vector<double> grads = test::values(g.grads);
  const auto copied = copy->named_parameters();
  for (size_t i = 0; i < g.entries.size(); ++i) {
    const FlatEntry& e = g.entries[i];
    // The gradient is the flat buffer's view at the parameter's offset, and it is the unflattened model's.
    EXPECT_EQ(e.param.grad().data_ptr(), static_cast<char*>(g.grads.data_ptr()) + e.offset * 4) << e.name;
    const std::vector<double> want = test::values(copied[i].second.grad());
    const std::vector<double> got(grads.begin() + e.offset, grads.begin() + e.offset + e.numel);
    test::expect_close(got, want, 1e-5, e.name);
  }
  flat.zero_grad();
  for (double v : test::values(g.grads)) ASSERT_EQ(v, 0.0);
}

TEST(LanguageModel, SummaryCountsEachModule) {
  auto lm = build_lm(kTiny);
  const std::string s = lm->summary();
  EXPECT_NE(s.find("LanguageModel 'model': vocab 13, dim 6, 2 blocks, tied output projection"), std::string::npos) << s;
  for (const char* row : {"embed ", "blocks.0 ", "blocks.1 ", "norm ", "total "})
    EXPECT_NE(s.find(row), std::string::npos) << row << "\n" << s;
  EXPECT_NE(s.find("TestMeanMixer  42"), std::string::npos) << s;
  EXPECT_NE(s.find("78"), std::string::npos) << s;  // embedding 13 x 6
  EXPECT_EQ(lm->parameter_count(), 78 + 2 * 42 + 6);
}

}  // namespace
}  // namespace gau::layers
