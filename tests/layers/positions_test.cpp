// RoPE, the relative-position bias and the scaled sinusoidal embedding against naive f64 loops
// (forward and every gradient), their tables' placement (buffers, not parameters), decoding
// offsets, and bad input naming the layer and the config path.
#include "layers/positions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/registry.h"
#include "tests/layers/naive_layers.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"

namespace gau::layers {
namespace {

using test::error_of;

TEST(RotaryEmbedding, MatchesTheReferenceAtAnyOffset) {
  for (DType dt : {DType::f64, DType::f32}) {
    for (int64_t offset : {0, 3}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " offset " + std::to_string(offset));
      RotaryEmbedding rope(6, 12, 100.0);
      rope.to(Device::cpu(), dt);
      naive::expect_matches(
          rope, test::randn({2, 3, 5, 6}, dt, 1), [&](const Tensor& x) { return rope.apply(x, offset); },
          [&](const naive::Params&, const naive::Vec& x) { return naive::rope(x, 5, 6, offset, 100.0); },
          test::ref_tol(dt));
    }
  }
}

TEST(RotaryEmbedding, ScoresDependOnlyOnTheDistance) {
  RotaryEmbedding rope(8, 64);
  rope.to(Device::cpu(), DType::f64);
  const Tensor q = test::randn64({1, 8}, 2), k = test::randn64({1, 8}, 3);
  auto score = [&](int64_t pq, int64_t pk) {
    return naive::dot(test::values(rope.apply(q, pq)), test::values(rope.apply(k, pk)));
  };
  EXPECT_NEAR(score(5, 2), score(40, 37), 1e-12);
  EXPECT_NEAR(score(0, 9), score(30, 39), 1e-12);
  EXPECT_GT(std::abs(score(5, 2) - score(5, 3)), 1e-6) << "the distance matters";
}

TEST(RotaryEmbedding, TablesAreBuffersOutsideTheStateDict) {
  RotaryEmbedding rope(4, 10);
  EXPECT_EQ(rope.parameter_count(), 0);
  EXPECT_TRUE(rope.state_dict().empty());
  ASSERT_EQ(rope.named_buffers().size(), 1u);
  EXPECT_EQ(rope.table().shape(), (Shape{10, 4}));
  rope.to(Device::cpu(), DType::f32);
  EXPECT_EQ(rope.table().dtype(), DType::f32) << "to() casts the table with the model";
  // A bf16 model: the op reads f32 or f64 tables, so the first apply rebuilds the rounded one.
  rope.to(Device::cpu(), DType::bf16);
  EXPECT_EQ(rope.table().dtype(), DType::bf16);
  const Tensor x = test::randn({3, 4}, DType::bf16, 9);
  const std::vector<double> got = test::values(rope.apply(x, 5));
  EXPECT_EQ(rope.table().dtype(), DType::f32);
  test::expect_close(got, naive::rope(test::values(x), 3, 4, 5), test::ref_tol(DType::bf16), "bf16 rope");
}

TEST(RotaryEmbedding, Gradcheck) {
  RotaryEmbedding rope(4, 8);
  rope.to(Device::cpu(), DType::f64);
  GAU_EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return rope.apply(in[0], 2); },
                       {test::randn64({2, 3, 4}, 4)});
}

TEST(RotaryEmbedding, BadInputNamesTheLayerAndItsPath) {
  std::string msg = error_of([] { build(YAML::Load("{type: rotary_embedding, dim: 7}"), "model.blocks[0].rope"); });
  EXPECT_NE(msg.find("model.blocks[0].rope.dim"), std::string::npos) << msg;
  EXPECT_NE(msg.find("RotaryEmbedding rotates pairs of dimensions: dim must be even, got 7"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { RotaryEmbedding odd(5, 8); }).find("dim must be even"), std::string::npos);
  auto rope = build(YAML::Load("{type: rotary_embedding, dim: 4, max_length: 8}"), "model.rope");
  auto& r = dynamic_cast<RotaryEmbedding&>(*rope);
  msg = error_of([&] { r.apply(ops::zeros({6, 4}), 4); });
  EXPECT_NE(msg.find("RotaryEmbedding 'model.rope': positions 4 .. 9 are outside the table of max_length 8"),
            std::string::npos)
      << msg;
  msg = error_of([&] { r.apply(ops::zeros({3, 6}), 0); });
  EXPECT_NE(msg.find("expected a floating x [..., n, 4], got f32[3, 6]"), std::string::npos) << msg;
}

TEST(RelativePositionBias, IndicesMatchT5AndClampedOffsets) {
  struct Case {
    int64_t buckets, distance;
    bool bidirectional;
  };
  for (const Case& c : {Case{32, 128, true}, Case{32, 128, false}, Case{8, 20, true}, Case{6, 50, false}}) {
    SCOPED_TRACE("buckets " + std::to_string(c.buckets) + " distance " + std::to_string(c.distance));
    RelativePositionBias bias({.kind = RelativeBiasKind::t5,
                               .num_buckets = c.buckets,
                               .max_distance = c.distance,
                               .bidirectional = c.bidirectional});
    EXPECT_EQ(bias.table().shape(), (Shape{c.buckets}));
    for (int64_t rel = -300; rel <= 300; ++rel)
      ASSERT_EQ(bias.index(rel), naive::t5_bucket(rel, c.buckets, c.distance, c.bidirectional)) << rel;
  }
  RelativePositionBias offsets({.kind = RelativeBiasKind::per_offset, .max_offset = 4});
  EXPECT_EQ(offsets.table().shape(), (Shape{9}));
  for (int64_t rel = -10; rel <= 10; ++rel) EXPECT_EQ(offsets.index(rel), std::clamp<int64_t>(rel, -4, 4) + 4);
}

TEST(RelativePositionBias, LookupMatchesTheReference) {
  RelativePositionBias bias({.kind = RelativeBiasKind::t5, .num_buckets = 8, .max_distance = 16});
  bias.to(Device::cpu(), DType::f64);
  const Tensor rel = ops::from_vector<int64_t>({0, 1, -1, 2, -2, 3, 7, -7, 15, -40, 3, 1}, {2, 6});
  naive::expect_matches(
      bias, rel, [&](const Tensor& r) { return bias.forward(r); },
      [](const naive::Params& p, const naive::Vec& r) {
        naive::Vec out;
        for (double v : r)
          out.push_back(p.at("table")[naive::at(naive::t5_bucket(static_cast<int64_t>(v), 8, 16, true))]);
        return out;
      },
      1e-12);
}

// Softmax attention with the module's bias: q, k, v packed in x [3, b, h, n, s].
void expect_attention_with_bias(RelativePositionBias& bias, bool causal) {
  const int64_t b = 2, h = 2, n = 6, s = 3;
  bias.to(Device::cpu(), DType::f64);
  naive::expect_matches(
      bias, test::randn64({3, b, h, n, s}, 5),
      [&](const Tensor& x) {
        attention::AttentionOptions opt;
        opt.causal = causal;
        opt.scale = 0.5;
        opt.bias = bias.bias();
        return attention::dot_product_attention(gau::select(x, 0, 0), gau::select(x, 0, 1), gau::select(x, 0, 2), opt);
      },
      [&](const naive::Params& p, const naive::Vec& x) {
        const naive::Vec& table = p.at("table");
        const int64_t head = n * s, block = b * h * head;
        naive::Vec out;
        for (int64_t bh = 0; bh < b * h; ++bh) {
          auto part = [&](int64_t which) {
            return naive::Vec(x.begin() + which * block + bh * head, x.begin() + which * block + (bh + 1) * head);
          };
          const naive::Vec o = naive::softmax_attention(
              part(0), part(1), part(2), n, n, s, 0.5, causal,
              [&](int64_t rel) {
                const auto& o = bias.options();
                return table[naive::at(o.kind == RelativeBiasKind::per_offset
                                           ? std::clamp<int64_t>(rel, -o.max_offset, o.max_offset) + o.max_offset
                                           : naive::t5_bucket(rel, o.num_buckets, o.max_distance, o.bidirectional))];
              },
              n);
          out.insert(out.end(), o.begin(), o.end());
        }
        return out;
      },
      1e-12);
}

TEST(RelativePositionBias, ThroughTheAttentionOpMatchesTheReference) {
  RelativePositionBias offsets({.kind = RelativeBiasKind::per_offset, .max_offset = 2, .init_std = 0.5});
  expect_attention_with_bias(offsets, false);
  RelativePositionBias t5(
      {.kind = RelativeBiasKind::t5, .num_buckets = 6, .max_distance = 8, .bidirectional = false, .init_std = 0.5});
  expect_attention_with_bias(t5, true);
}

TEST(RelativePositionBias, BadConfig) {
  std::string msg = error_of([] {
    build(YAML::Load("{type: relative_position_bias, kind: t5, num_buckets: 8, max_distance: 2}"), "model.bias");
  });
  EXPECT_NE(msg.find("model.bias.max_distance"), std::string::npos) << msg;  // the key given of the two
  EXPECT_NE(msg.find("max_distance > 2"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: relative_position_bias, num_buckets: 600}"), "model.bias"); });
  EXPECT_NE(msg.find("model.bias.num_buckets"), std::string::npos) << msg;  // against the default max_distance
  msg = error_of([] { build(YAML::Load("{type: relative_position_bias, kind: alibi}"), "model.bias"); });
  EXPECT_NE(msg.find("model.bias.kind"), std::string::npos) << msg;
  EXPECT_NE(msg.find("per_offset"), std::string::npos) << msg;
  auto bias = build(YAML::Load("{type: relative_position_bias, kind: per_offset, max_offset: 3}"), "model.bias");
  msg = error_of([&] { bias->forward(ops::zeros({3})); });
  EXPECT_NE(msg.find("RelativePositionBias 'model.bias': expected relative positions (i32 or i64)"), std::string::npos)
      << msg;
}

TEST(ScaledSinusoidal, MatchesTheReference) {
  const int64_t d = 6, n = 4;
  for (DType dt : {DType::f64, DType::f32}) {
    for (int64_t offset : {0, 5}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " offset " + std::to_string(offset));
      ScaledSinusoidal m(d, 16);
      EXPECT_NEAR(test::values(m.scale())[0], 1 / std::sqrt(6.0), 1e-7);
      m.to(Device::cpu(), dt);
      naive::expect_matches(
          m, test::randn({2, n, d}, dt, 6), [&](const Tensor& x) { return m.forward(x, offset); },
          [&](const naive::Params& p, const naive::Vec& x) {
            naive::Vec y = x;
            for (size_t r = 0; r < x.size() / naive::at(d); ++r) {
              const double pos = static_cast<double>(offset + static_cast<int64_t>(r) % n);
              for (int64_t j = 0; j < d / 2; ++j) {
                const double w = std::pow(10000.0, -2.0 * static_cast<double>(j) / d);
                y[r * d + naive::at(j)] += p.at("scale")[0] * std::sin(pos * w);
                y[r * d + naive::at(j + d / 2)] += p.at("scale")[0] * std::cos(pos * w);
              }
            }
            return y;
          },
          test::ref_tol(dt));
    }
  }
  ScaledSinusoidal m(4, 8);
  EXPECT_EQ(m.parameter_count(), 1);
  EXPECT_EQ(m.state_dict().size(), 1u) << "the table is not persistent";
}

TEST(ScaledSinusoidal, GradcheckAndBadInput) {
  ScaledSinusoidal m(4, 8);
  m.to(Device::cpu(), DType::f64);
  const Tensor x = test::randn64({2, 3, 4}, 7), r = test::randn64({2, 3, 4}, 8);
  EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x, 2), r)); }));
  auto built = build(YAML::Load("{type: scaled_sinusoidal, dim: 8, max_length: 4}"), "model.pos");
  std::string msg = error_of([&] { built->forward(ops::zeros({1, 3, 6})); });
  EXPECT_NE(msg.find("ScaledSinusoidal 'model.pos': expected x [b, n, 8], got f32[1, 3, 6]"), std::string::npos) << msg;
  msg = error_of([&] { built->forward(ops::zeros({1, 5, 8})); });
  EXPECT_NE(msg.find("positions 0 .. 4 are outside the table of max_length 4"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: scaled_sinusoidal, dim: 5}"), "model.pos"); });
  EXPECT_NE(msg.find("model.pos.dim"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gau::layers
