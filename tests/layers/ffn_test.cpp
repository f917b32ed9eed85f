// MLP, GLU and SwiGLU against naive f64 loops (forward and every gradient), gradcheck, default
// widths and bad input.
#include "layers/ffn.h"

#include <gtest/gtest.h>

#include <string>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"
#include "tests/layers/naive_layers.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"

namespace gau::layers {
namespace {

using test::error_of;

// y = w_out(act(w_in x)) (mlp) or w_out(gate(a) * g) with [a | g] = w_in x; x [rows, d].
naive::Vec reference(const naive::Params& p, const naive::Vec& x, FfnKind kind, ops::Activation act, int64_t d,
                     int64_t h, bool bias) {
  const int64_t rows = static_cast<int64_t>(x.size()) / d;
  const int64_t in_width = kind == FfnKind::mlp ? h : 2 * h;
  const naive::Vec pre = naive::linear(x, p.at("w_in.weight"), bias ? &p.at("w_in.bias") : nullptr, rows, d, in_width);
  naive::Vec hidden(naive::at(rows * h));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < h; ++j) {
      const double a = pre[naive::at(r * in_width + j)];
      double v = 0;
      if (kind == FfnKind::mlp) {
        v = act == ops::Activation::relu    ? std::max(a, 0.0)
            : act == ops::Activation::relu2 ? std::max(a, 0.0) * std::max(a, 0.0)
            : act == ops::Activation::silu  ? naive::silu(a)
                                            : naive::gelu(a);
      } else {
        const double g = pre[naive::at(r * in_width + h + j)];
        v = (kind == FfnKind::glu ? naive::sigmoid(a) : naive::silu(a)) * g;
      }
      hidden[naive::at(r * h + j)] = v;
    }
  return naive::linear(hidden, p.at("w_out.weight"), bias ? &p.at("w_out.bias") : nullptr, rows, h, d);
}

TEST(FeedForward, EveryKindMatchesTheReference) {
  struct Case {
    FfnKind kind;
    ops::Activation act;
    bool bias;
  };
  for (const Case& c :
       {Case{FfnKind::mlp, ops::Activation::gelu, true}, Case{FfnKind::mlp, ops::Activation::silu, false},
        Case{FfnKind::mlp, ops::Activation::relu2, true}, Case{FfnKind::glu, ops::Activation::gelu, true},
        Case{FfnKind::swiglu, ops::Activation::gelu, false}, Case{FfnKind::swiglu, ops::Activation::gelu, true}}) {
    for (DType dt : {DType::f64, DType::f32}) {
      FeedForward m({.kind = c.kind, .dim = 5, .hidden = 7, .activation = c.act, .linear = {.bias = c.bias}});
      SCOPED_TRACE(m.type_name() + (c.bias ? " bias " : " ") + dtype_name(dt));
      m.to(Device::cpu(), dt);
      {
        NoGradGuard no_grad;  // biases away from zero, so that a dropped bias shows
        for (const auto& [name, p] : m.named_parameters())
          if (name.find("bias") != std::string::npos) ops::copy_(p, test::randn(p.shape(), dt, 1));
      }
      naive::expect_matches(
          m, test::randn({2, 3, 5}, dt, 2, 0.05), [&](const Tensor& x) { return m.forward(x); },
          [&](const naive::Params& p, const naive::Vec& x) { return reference(p, x, c.kind, c.act, 5, 7, c.bias); },
          test::ref_tol(dt), 1e-5);
    }
  }
}

TEST(FeedForward, GatedKindsUseOneFusedInputProjection) {
  auto m = std::dynamic_pointer_cast<FeedForward>(build(YAML::Load("{type: swiglu, dim: 12, hidden: 20}")));
  ASSERT_NE(m, nullptr);
  const auto* w_in = dynamic_cast<const FusedLinear*>(&m->w_in());
  ASSERT_NE(w_in, nullptr);
  EXPECT_EQ(w_in->weight().shape(), (Shape{40, 12}));
  EXPECT_EQ(m->w_out().weight().shape(), (Shape{12, 20}));
  EXPECT_FALSE(w_in->bias().defined()) << "swiglu has no biases by default";
  EXPECT_EQ(m->type_name(), "SwiGLU");
  EXPECT_EQ(default_ffn_hidden(FfnKind::swiglu, 512), 1368);  // ceil(8 * 512 / 3) = 1366, to a multiple of 8
  EXPECT_EQ(default_ffn_hidden(FfnKind::mlp, 512), 2048);
  auto mlp = std::dynamic_pointer_cast<FeedForward>(build(YAML::Load("{type: mlp, dim: 6}")));
  EXPECT_EQ(mlp->hidden(), 24);
  EXPECT_EQ(mlp->config()["activation"].as<std::string>(), "gelu");
}

TEST(FeedForward, Gradcheck) {
  for (FfnKind kind : {FfnKind::mlp, FfnKind::glu, FfnKind::swiglu}) {
    FeedForward m({.kind = kind, .dim = 3, .hidden = 4});
    SCOPED_TRACE(m.type_name());
    m.to(Device::cpu(), DType::f64);
    const Tensor x = test::randn64({2, 3}, 3, 0.05), r = test::randn64({2, 3}, 4);
    EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); }));
  }
}

TEST(FeedForward, BadInputNamesTheLayerAndItsPath) {
  auto m = build(YAML::Load("{type: swiglu, dim: 8, hidden: 16}"), "model.blocks[3].ffn");
  const std::string msg = error_of([&] { m->forward(ops::zeros({2, 4})); });
  EXPECT_NE(msg.find("SwiGLU 'model.blocks[3].ffn': expected an input [..., 8], got f32[2, 4] on cpu"),
            std::string::npos)
      << msg;
  EXPECT_NE(
      error_of([] { build(YAML::Load("{type: mlp, dim: 8, activation: tanh}"), "m.ffn"); }).find("m.ffn.activation"),
      std::string::npos);
  EXPECT_NE(error_of([] { build(YAML::Load("{type: glu, dim: 8, hidden: 0}"), "m.ffn"); }).find("m.ffn.hidden"),
            std::string::npos);
}

}  // namespace
}  // namespace gau::layers
