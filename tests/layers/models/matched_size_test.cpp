// Matched-size configs: the fitting and the layer rule over test blocks (a mean mixer for the
// GAU and FLASH places, a position-wise feed-forward block with a width key for Transformer++),
// then the real flavours and configs/models/*_tiny.yaml, which skip until the block types are
// registered.
#include "layers/models/matched_size.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "layers/models/language_model.h"
#include "layers/registry.h"
#include "tests/layers/models/mean_mixer_block.h"
#include "tests/support/checks.h"

namespace gau::layers {

// y = x + silu(x W_inᵀ) W_outᵀ, position-wise (so causal, and decode is the forward): a block
// whose size follows a width key, as Transformer++'s follows its feed-forward width.
class TestFeedForward : public SequenceBlock {
 public:
  TestFeedForward(int64_t dim, int64_t hidden) : SequenceBlock("TestFeedForward"), dim_(dim) {
    up_ = register_module("up", std::make_shared<Linear>(dim, hidden));
    down_ = register_module("down", std::make_shared<Linear>(hidden, dim));
  }
  Tensor forward_sequence(const Tensor& x, const SequenceInfo&) override {
    return gau::add(x, down_->forward(gau::silu(up_->forward(x))));
  }
  int64_t width() const override { return dim_; }
  bool is_causal() const override { return true; }
  std::unique_ptr<DecodeCache> start_decoding(int64_t, int64_t) const override {
    return std::make_unique<DecodeCache>();
  }
  Tensor decode(const Tensor& x, DecodeCache& cache) override {
    NoGradGuard no_grad;
    cache.position += x.size(1);
    return forward_sequence(x, {});
  }
  static std::shared_ptr<Module> from_config(ConfigReader& r) {
    const int64_t dim = r.integer("dim", Range::at_least(1));
    const int64_t hidden = r.integer("hidden", 4 * dim, Range::at_least(1));
    GAU_CHECK(r.boolean("causal", true), r.where("causal"), ": a position-wise block is causal");
    r.integer("max_length", 0, Range::at_least(0));  // set by the model; unused position-wise
    return std::make_shared<TestFeedForward>(dim, hidden);
  }
  static const char* example_config() { return "{dim: 4, hidden: 8}"; }
  static Tensor example_input(const TestFeedForward& m, uint64_t seed) {
    return test::randn({2, 3, m.width()}, DType::f32, seed);
  }

 private:
  int64_t dim_;
  std::shared_ptr<Linear> up_, down_;
};
GAU_REGISTER_LAYER("test_feed_forward", TestFeedForward);

namespace {

using test::error_of;

MatchedSizeSpec test_spec() {
  MatchedSizeSpec spec;
  spec.vocab = 64;
  spec.dim = 32;
  spec.gau_block = YAML::Load("{type: test_mean_mixer}");
  spec.flash_block = YAML::Load("{type: test_mean_mixer}");
  spec.transformer_block = YAML::Load("{type: test_feed_forward}");
  spec.width_key = "hidden";
  return spec;
}

int64_t built_count(const YAML::Node& config) { return build(config, "model")->parameter_count(); }

TEST(MatchedSize, TwoGauLayersPerTransformerLayerAndAFittedWidth) {
  MatchedSizeSpec spec = test_spec();
  spec.transformer_layers = 3;
  const YAML::Node gau = matched_size_config("gau", spec), flash = matched_size_config("flash", spec);
  const YAML::Node tpp = matched_size_config("transformer_pp", spec);
  EXPECT_EQ(gau["layers"].as<int64_t>(), 6);
  EXPECT_EQ(flash["layers"].as<int64_t>(), 6);
  EXPECT_EQ(tpp["layers"].as<int64_t>(), 3);
  // Mixer: 32 * 32 + 32 per layer; feed-forward: 2 * 32 * h + h + 32. Six mixers (6,336) are
  // matched by h = 32 (the nearest multiple of 8): 3 * (2,048 + 64) = 6,336.
  EXPECT_EQ(tpp["blocks"]["hidden"].as<int64_t>(), 32);
  const int64_t g = built_count(gau), t = built_count(tpp);
  EXPECT_EQ(g, model_parameter_count(gau));
  EXPECT_EQ(t, model_parameter_count(tpp));
  EXPECT_EQ(g, 64 * 32 + 6 * (32 * 32 + 32) + 32);
  EXPECT_LE(std::abs(t - g), g / 20);
}

TEST(MatchedSize, ATargetPicksTheNearestLayerCount) {
  MatchedSizeSpec spec = test_spec();
  spec.target_parameters = 20000;  // (20,000 - 2,080) / (2 * 1,056) = 8.5 -> 8 or 9 pairs
  const YAML::Node gau = matched_size_config("gau", spec);
  const int64_t layers = gau["layers"].as<int64_t>();
  EXPECT_TRUE(layers == 16 || layers == 18) << layers;
  const YAML::Node tpp = matched_size_config("transformer_pp", spec);
  EXPECT_EQ(tpp["layers"].as<int64_t>(), layers / 2);
  const int64_t g = built_count(gau), t = built_count(tpp);
  EXPECT_LE(std::abs(g - 20000), 1056);
  EXPECT_LE(std::abs(t - g), g / 20);
}

TEST(MatchedSize, CountsAHeterogeneousListAndAMaskedLm) {
  const YAML::Node list = YAML::Load(
      "{type: language_model, vocab: 10, dim: 8, blocks: [{type: test_mean_mixer}, {type: test_feed_forward, hidden: "
      "16}], tie_embeddings: false}");
  EXPECT_EQ(model_parameter_count(list), built_count(list));
  const YAML::Node mlm = YAML::Load("{type: masked_lm, vocab: 10, dim: 8, blocks: {type: test_mean_mixer}, layers: 3}");
  EXPECT_EQ(model_parameter_count(mlm), built_count(mlm));
}

TEST(MatchedSize, BadRequests) {
  MatchedSizeSpec spec = test_spec();
  EXPECT_NE(error_of([&] { matched_size_config("gau", spec); }).find("transformer_layers or target_parameters > 0"),
            std::string::npos);
  spec.transformer_layers = 1;
  EXPECT_NE(error_of([&] { matched_size_config("mamba", spec); }).find("not one of: gau, flash, transformer_pp"),
            std::string::npos);
  spec.width_key = "nothing";
  EXPECT_NE(error_of([&] { matched_size_config("transformer_pp", spec); }).find("model.blocks[0].nothing"),
            std::string::npos);
}

// The real flavours: each test runs once the blocks it needs are registered.
std::string missing_types() {
  std::string missing;
  for (const char* t : {"gau", "flash", "transformer_pp"})
    if (Registry::global().find(t) == nullptr) missing += std::string(missing.empty() ? "" : ", ") + t;
  return missing;
}

TEST(MatchedSize, RealFlavoursMatchWithinFivePercent) {
  if (const std::string m = missing_types(); !m.empty()) GTEST_SKIP() << "block types not registered: " << m;
  for (const int64_t d : {128, 256, 512}) {
    SCOPED_TRACE(d);
    MatchedSizeSpec spec;
    spec.dim = d;
    spec.transformer_layers = 2;
    std::vector<int64_t> counts;
    for (const char* f : {"gau", "flash", "transformer_pp"})
      counts.push_back(model_parameter_count(matched_size_config(f, spec)));
    for (const int64_t c : counts) EXPECT_LE(std::abs(static_cast<double>(c - counts[0])), 0.05 * counts[0]) << c;
  }
}

TEST(MatchedSize, TinyConfigsBuildAndMatch) {
  // GAU_TEST_FIXTURES is <source>/tests/reference/fixtures.
  const std::filesystem::path dir =
      std::filesystem::path(GAU_TEST_FIXTURES).parent_path().parent_path().parent_path() / "configs" / "models";
  std::vector<int64_t> counts;
  std::string missing;
  for (const char* flavour : {"gau", "flash", "transformer_pp"}) {
    SCOPED_TRACE(flavour);
    if (Registry::global().find(flavour) == nullptr) {
      missing += std::string(missing.empty() ? "" : ", ") + flavour;
      continue;
    }
    const std::string file = (dir / (std::string(flavour) + "_tiny.yaml")).string();
    const YAML::Node model = YAML::LoadFile(file)["model"];
    auto lm = std::dynamic_pointer_cast<LanguageModel>(build(model, "model", file));
    ASSERT_NE(lm, nullptr);
    counts.push_back(lm->parameter_count());
    EXPECT_EQ(model_parameter_count(model), counts.back());
    EXPECT_GE(counts.back(), 1'000'000);
    EXPECT_LE(counts.back(), 3'000'000);
    const Tensor ids = example_token_ids(1, 16, 256, Device::cpu(), 1);
    EXPECT_TRUE(std::isfinite(lm->loss(ids, ids).item()));
  }
  // The ±5% match needs all three.
  if (!missing.empty()) GTEST_SKIP() << "block types not registered: " << missing << " (the others built and ran)";
  for (const int64_t c : counts) EXPECT_LE(std::abs(static_cast<double>(c - counts[0])), 0.05 * counts[0]) << c;
}

}  // namespace
}  // namespace gau::layers
