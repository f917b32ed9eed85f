// MultiHeadAttention against a naive f64 multi-head softmax attention (explicit loops over heads,
// queries and keys: forward and every gradient) with each position type, padding and biases;
// gradcheck; the KV-cache decode against the full pass; bad input naming the layer and config path.
#include "layers/mha.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "core/rng.h"
#include "layers/registry.h"
#include "tests/layers/naive_layers.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"

namespace gau::layers {
namespace {

using test::error_of;

struct Case {
  std::string name;
  MhaOptions options;
  std::vector<int64_t> lengths;
};

naive::MhaSpec spec_of(const MultiHeadAttention& m, int64_t b, int64_t n, const std::vector<int64_t>& lengths) {
  const MhaOptions& o = m.options();
  naive::MhaSpec s{.b = b, .n = n, .d = o.dim, .heads = o.heads, .causal = o.causal, .bias = o.linear.bias};
  s.rope = o.position == PositionType::rope;
  s.rope_base = o.rope_base;
  s.lengths = lengths;
  if (o.position == PositionType::relative) {
    const RelativeBiasOptions r = o.relative;
    s.bias_index = [r](int64_t rel) {
      return r.kind == RelativeBiasKind::per_offset
                 ? std::clamp<int64_t>(rel, -r.max_offset, r.max_offset) + r.max_offset
                 : naive::t5_bucket(rel, r.num_buckets, r.max_distance, r.bidirectional);
    };
  }
  return s;
}

TEST(MultiHeadAttention, MatchesTheNaiveReference) {
  const MhaOptions rope{.dim = 8, .heads = 2, .position = PositionType::rope, .max_length = 16, .rope_base = 50};
  MhaOptions none = rope, biased = rope, t5 = rope, offsets = rope, padded = rope;
  none.position = PositionType::none;
  none.causal = false;
  biased.linear.bias = true;
  biased.heads = 4;
  t5.position = PositionType::relative;
  t5.relative = {
      .kind = RelativeBiasKind::t5, .num_buckets = 6, .max_distance = 8, .bidirectional = false, .init_std = 0.5};
  offsets.position = PositionType::relative;
  offsets.causal = false;
  offsets.relative = {.kind = RelativeBiasKind::per_offset, .max_offset = 2, .init_std = 0.5};
  padded.causal = false;
  for (const Case& c : {Case{"rope causal", rope, {}}, Case{"no positions, bidirectional", none, {}},
                        Case{"biases, 4 heads", biased, {}}, Case{"t5 causal", t5, {}},
                        Case{"per_offset bidirectional", offsets, {}}, Case{"padded", padded, {5, 3}}}) {
    for (DType dt : {DType::f64, DType::f32}) {
      SCOPED_TRACE(c.name + " " + dtype_name(dt));
      MultiHeadAttention m(c.options);
      m.to(Device::cpu(), dt);
      {
        NoGradGuard no_grad;
        for (const auto& [name, p] : m.named_parameters())
          if (name.find(".bias") != std::string::npos) ops::copy_(p, test::randn(p.shape(), dt, 1));
      }
      SequenceInfo info;
      if (!c.lengths.empty()) info.key_lengths = ops::from_vector<int64_t>(c.lengths, {2});
      const naive::MhaSpec spec = spec_of(m, 2, 5, c.lengths);
      naive::expect_matches(
          m, test::randn({2, 5, 8}, dt, 2), [&](const Tensor& x) { return m.forward_attention(x, info); },
          [&](const naive::Params& p, const naive::Vec& x) { return naive::mha(spec, p, x); }, test::ref_tol(dt), 1e-6);
    }
  }
}

TEST(MultiHeadAttention, FusedQkvKeepsSeparateRowBlocks) {
  auto m = std::dynamic_pointer_cast<MultiHeadAttention>(
      build(YAML::Load("{type: multi_head_attention, dim: 16, heads: 4}"), "model.attn"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->qkv().weight().shape(), (Shape{48, 16}));
  ASSERT_EQ(m->qkv().outputs().size(), 3u);
  EXPECT_EQ(m->qkv().outputs()[1], (std::pair<std::string, int64_t>{"k", 16}));
  EXPECT_EQ(m->head_dim(), 4);
  ASSERT_NE(m->rope(), nullptr);
  EXPECT_EQ(m->rope()->dim(), 4);
  EXPECT_EQ(m->parameter_count(), 48 * 16 + 16 * 16) << "no biases by default, RoPE has no parameters";
  EXPECT_EQ(m->config()["position"].as<std::string>(), "rope");
  EXPECT_EQ(m->config()["backend"].as<std::string>(), "gau");
}

TEST(MultiHeadAttention, Gradcheck) {
  MultiHeadAttention m(
      {.dim = 4, .heads = 2, .position = PositionType::relative, .relative = {.num_buckets = 4, .max_distance = 8}});
  m.to(Device::cpu(), DType::f64);
  const Tensor x = test::randn64({1, 3, 4}, 3), r = test::randn64({1, 3, 4}, 4);
  EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); }));
  GAU_EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return m.forward(in[0]); }, {test::randn64({1, 3, 4}, 5)});
}

TEST(MultiHeadAttention, DecodingMatchesTheFullPass) {
  for (PositionType position : {PositionType::rope, PositionType::relative, PositionType::none}) {
    SCOPED_TRACE(static_cast<int>(position));
    MultiHeadAttention m({.dim = 8, .heads = 2, .position = position, .max_length = 16});
    const Tensor x = test::randn({2, 7, 8}, DType::f32, 6);
    Tensor full;
    {
      NoGradGuard no_grad;
      full = m.forward_attention(x);
    }
    auto cache = m.start_decoding(2, 10);
    EXPECT_EQ(cache->k.shape(), (Shape{2, 2, 10, 4}));
    for (int64_t t = 0; t < 7; t += 2) {
      const int64_t len = std::min<int64_t>(2, 7 - t);
      const Tensor got = m.decode_attention(ops::narrow(x, 1, t, len), *cache);
      GAU_EXPECT_CLOSE(got, ops::narrow(full, 1, t, len), 1e-5, 1e-5);
    }
    EXPECT_EQ(cache->position, 7);
    const std::string msg = error_of([&] { m.decode_attention(ops::narrow(x, 1, 0, 4), *cache); });
    EXPECT_NE(msg.find("decoding positions 7 .. 10 overflows the cache of 10 positions"), std::string::npos) << msg;
  }
}

// The root mean square of a tensor's elements: the std of a zero-mean init.
double rms(const Tensor& t) {
  const Tensor d = ops::to_dtype(t, DType::f64);
  double sum = 0;
  for (int64_t i = 0; i < d.numel(); ++i) sum += d.data<double>()[i] * d.data<double>()[i];
  return std::sqrt(sum / static_cast<double>(d.numel()));
}

// init_std is the projections'; the relative bias table has its own relative_init_std.
TEST(MultiHeadAttention, TheRelativeBiasHasItsOwnInitStd) {
  manual_seed(5);
  auto m = build(YAML::Load("{type: multi_head_attention, dim: 32, heads: 2, position: relative, init: normal, "
                            "init_std: 0.5, relative_init_std: 0.01, num_buckets: 64, max_distance: 256}"),
                 "attn");
  double weights = 0, table = 0;
  for (const auto& [name, p] : m->named_parameters()) {
    if (name.find("relative") != std::string::npos) table = rms(p);
    if (name.find("qkv.weight") != std::string::npos) weights = rms(p);
  }
  EXPECT_NEAR(weights, 0.5, 0.05);
  EXPECT_NEAR(table, 0.01, 0.004);
  const std::string msg = error_of([] {
    build(YAML::Load("{type: multi_head_attention, dim: 8, heads: 2, position: relative, max_distance: 4}"), "attn");
  });
  EXPECT_NE(msg.find("attn.max_distance"), std::string::npos) << msg;  // the key given, not num_buckets
}

TEST(MultiHeadAttention, BadInputNamesTheLayerAndItsPath) {
  auto m = build(YAML::Load("{type: multi_head_attention, dim: 8, heads: 2}"), "model.blocks[1].attn");
  std::string msg = error_of([&] { m->forward(ops::zeros({2, 3, 6})); });
  EXPECT_NE(msg.find("MultiHeadAttention 'model.blocks[1].attn': expected h [b, n, 8], got f32[2, 3, 6]"),
            std::string::npos)
      << msg;
  msg = error_of([] { build(YAML::Load("{type: multi_head_attention, dim: 10, heads: 3}"), "model.attn"); });
  EXPECT_NE(msg.find("model.attn.heads"), std::string::npos) << msg;
  EXPECT_NE(msg.find("heads must divide dim 10, got 3 heads"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: multi_head_attention, dim: 6, heads: 2}"), "model.attn"); });
  EXPECT_NE(msg.find("model.attn.position"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dim / heads = 3 must be even"), std::string::npos) << msg;
  msg = error_of(
      [] { build(YAML::Load("{type: multi_head_attention, dim: 8, heads: 2, position: alibi}"), "model.attn"); });
  EXPECT_NE(msg.find("model.attn.position"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rope"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { position_type_from_name("alibi"); }).find("expected one of none, rope, relative"),
            std::string::npos);
  auto bidirectional = std::dynamic_pointer_cast<MultiHeadAttention>(
      build(YAML::Load("{type: multi_head_attention, dim: 8, heads: 2, causal: false}"), "model.enc"));
  msg = error_of([&] { bidirectional->start_decoding(1, 4); });
  EXPECT_NE(msg.find("MultiHeadAttention 'model.enc': decoding needs causal attention"), std::string::npos) << msg;
  msg = error_of([] { MultiHeadAttention bad({.dim = 8, .heads = 3}); });
  EXPECT_NE(msg.find("heads must divide dim"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gau::layers
