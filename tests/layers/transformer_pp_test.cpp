// The Transformer++ block against a naive f64 composition (RMSNorm, multi-head attention with
// RoPE, SwiGLU, both residuals: forward and every gradient), gradcheck, incremental decoding
// (token by token and in chunks of 3) against forward_sequence, and bad input.
#include "layers/transformer_pp.h"

#include <gtest/gtest.h>

#include <string>

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

// The parameters of one child, with the child's prefix removed ("attn.qkv.weight" -> "qkv.weight").
naive::Params child(const naive::Params& p, const std::string& prefix) {
  naive::Params out;
  for (const auto& [name, v] : p)
    if (name.rfind(prefix, 0) == 0) out[name.substr(prefix.size())] = v;
  return out;
}

// y = h + w_out(silu(a) * g), [a | g] = w_in(rms(h)), h = x + mha(rms(x)); x [b, n, d].
naive::Vec reference(const naive::Params& p, const naive::Vec& x, const naive::MhaSpec& spec, int64_t hidden,
                     double eps) {
  const int64_t rows = spec.b * spec.n, d = spec.d;
  naive::Vec h = naive::mha(spec, child(p, "attn."), naive::rms_norm(x, p.at("attn_norm.weight"), d, eps));
  for (size_t i = 0; i < h.size(); ++i) h[i] += x[i];
  const naive::Vec ab = naive::linear(naive::rms_norm(h, p.at("ffn_norm.weight"), d, eps), p.at("ffn.w_in.weight"),
                                      nullptr, rows, d, 2 * hidden);
  naive::Vec gated(naive::at(rows * hidden));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < hidden; ++j)
      gated[naive::at(r * hidden + j)] =
          naive::silu(ab[naive::at(r * 2 * hidden + j)]) * ab[naive::at(r * 2 * hidden + hidden + j)];
  naive::Vec y = naive::linear(gated, p.at("ffn.w_out.weight"), nullptr, rows, hidden, d);
  for (size_t i = 0; i < y.size(); ++i) y[i] += h[i];
  return y;
}

TransformerPPOptions small_options(bool causal) {
  TransformerPPOptions o;
  o.attention = {.dim = 8, .heads = 2, .position = PositionType::rope, .causal = causal, .max_length = 32};
  o.hidden = 12;
  o.eps = 1e-5;
  return o;
}

TEST(TransformerPP, MatchesTheNaiveComposition) {
  for (bool causal : {true, false}) {
    for (DType dt : {DType::f64, DType::f32}) {
      SCOPED_TRACE(std::string(causal ? "causal " : "bidirectional ") + dtype_name(dt));
      TransformerPP m(small_options(causal));
      m.to(Device::cpu(), dt);
      {
        NoGradGuard no_grad;  // norm weights away from 1, so that a skipped weight shows
        for (const auto& [name, p] : m.named_parameters())
          if (name.find("norm") != std::string::npos) ops::copy_(p, test::randn(p.shape(), dt, 1, 0.5));
      }
      naive::MhaSpec spec{.b = 2, .n = 5, .d = 8, .heads = 2, .causal = causal, .rope = true};
      naive::expect_matches(
          m, test::randn({2, 5, 8}, dt, 2), [&](const Tensor& x) { return m.forward_sequence(x, {}); },
          [&](const naive::Params& p, const naive::Vec& x) { return reference(p, x, spec, 12, 1e-5); },
          test::ref_tol(dt), 1e-6);
    }
  }
}

TEST(TransformerPP, Gradcheck) {
  TransformerPPOptions o;
  o.attention = {.dim = 4, .heads = 2, .max_length = 8};
  o.hidden = 3;
  TransformerPP m(o);
  m.to(Device::cpu(), DType::f64);
  const Tensor x = test::randn64({1, 3, 4}, 3), r = test::randn64({1, 3, 4}, 4);
  EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); }));
  GAU_EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return m.forward(in[0]); }, {test::randn64({1, 3, 4}, 5)});
}

TEST(TransformerPP, DecodingTokenByTokenAndInChunksMatchesTheSequence) {
  for (PositionType position : {PositionType::rope, PositionType::relative}) {
    TransformerPPOptions o = small_options(true);
    o.attention.position = position;
    TransformerPP m(o);
    m.eval();
    const int64_t n = 10;
    const Tensor x = test::randn({3, n, 8}, DType::f32, 7);
    Tensor full;
    {
      NoGradGuard no_grad;
      full = m.forward_sequence(x, {});
    }
    for (int64_t chunk : {1, 3}) {
      SCOPED_TRACE((position == PositionType::rope ? "rope, chunks of " : "relative, chunks of ") +
                   std::to_string(chunk));
      std::unique_ptr<DecodeCache> cache = m.start_decoding(3, n);
      for (int64_t t = 0; t < n; t += chunk) {
        const int64_t len = std::min(chunk, n - t);
        const Tensor got = m.decode(ops::narrow(x, 1, t, len), *cache);
        EXPECT_FALSE(got.requires_grad());
        GAU_EXPECT_CLOSE(got, ops::narrow(full, 1, t, len), 1e-5, 1e-5);
      }
      EXPECT_EQ(cache->position, n);
    }
  }
}

TEST(TransformerPP, PaddingKeysAreLeftOut) {
  // Row 0 has 3 valid tokens: its outputs for those tokens equal a pass over the 3 tokens alone.
  TransformerPP m(small_options(false));
  const Tensor x = test::randn({2, 6, 8}, DType::f32, 8);
  NoGradGuard no_grad;
  SequenceInfo info;
  info.key_lengths = ops::from_vector<int64_t>({3, 6}, {2});
  const Tensor padded = m.forward_sequence(x, info);
  const Tensor alone = m.forward_sequence(ops::narrow(ops::narrow(x, 0, 0, 1), 1, 0, 3), {});
  GAU_EXPECT_CLOSE(ops::narrow(ops::narrow(padded, 0, 0, 1), 1, 0, 3), alone, 1e-5, 1e-5);
  const Tensor unpadded = m.forward_sequence(x, {});
  EXPECT_FALSE(test::all_close(padded, unpadded, 1e-3, 1e-3)) << "the padding changed nothing";
}

TEST(TransformerPP, BuildsFromConfigAndRejectsBadInput) {
  auto block = build(YAML::Load("{type: transformer_pp, dim: 16, heads: 4}"), "model.blocks[0]");
  auto* m = dynamic_cast<TransformerPP*>(block.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->width(), 16);
  EXPECT_TRUE(m->is_causal());
  EXPECT_EQ(m->ffn().hidden(), 48);  // 8 * 16 / 3 = 42.7, to a multiple of 8
  EXPECT_EQ(m->attention().path(), "model.blocks[0].attn");
  EXPECT_EQ(m->config()["hidden"].as<int64_t>(), 48);
  std::string msg = error_of([&] { m->forward(ops::zeros({1, 2, 12})); });
  EXPECT_NE(msg.find("TransformerPP 'model.blocks[0]': expected x [b, n, 16], got f32[1, 2, 12]"), std::string::npos)
      << msg;
  msg = error_of([] { build(YAML::Load("{type: transformer_pp, dim: 16, heads: 5}"), "model.blocks[2]"); });
  EXPECT_NE(msg.find("model.blocks[2].heads"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: transformer_pp, dim: 16, heads: 8, position: rope}"), "model.b"); });
  EXPECT_EQ(msg, "") << "a head width of 2 is even";
  msg = error_of([] { build(YAML::Load("{type: transformer_pp, dim: 12, heads: 4}"), "model.blocks[3]"); });
  EXPECT_NE(msg.find("model.blocks[3].position"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: transformer_pp, dim: 16, heads: 4, position: learned}"), "model.b"); });
  EXPECT_NE(msg.find("model.b.position"), std::string::npos) << msg;
  auto encoder = build(YAML::Load("{type: transformer_pp, dim: 8, heads: 2, causal: false}"), "model.enc");
  msg = error_of([&] { dynamic_cast<TransformerPP&>(*encoder).start_decoding(1, 4); });
  EXPECT_NE(msg.find("TransformerPP 'model.enc': decoding needs a causal block"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gau::layers
