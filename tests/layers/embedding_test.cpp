// Embedding against a naive f64 reference (rows looked up, gradient rows summed, tied logits),
// gradcheck, tying with another module, and bad input.
#include "layers/embedding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;

TEST(Embedding, LookupAndGradientMatchTheReference) {
  Embedding emb(7, 4);
  emb.to(Device::cpu(), DType::f64);
  const std::vector<int64_t> id_values = {3, 0, 3, 6, 1, 3};  // repeats accumulate
  const Tensor ids = ops::from_vector<int64_t>(id_values, {2, 3});
  const Tensor r = test::randn64({2, 3, 4}, 1);
  const Tensor y = emb.forward(ids);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4}));
  gau::sum(gau::mul(y, r)).backward();
  const std::vector<double> w = test::values(emb.weight()), rv = test::values(r);
  std::vector<double> want_y, want_dw(7 * 4, 0.0);
  for (size_t t = 0; t < id_values.size(); ++t)
    for (size_t c = 0; c < 4; ++c) {
      want_y.push_back(w[static_cast<size_t>(id_values[t]) * 4 + c]);
      want_dw[static_cast<size_t>(id_values[t]) * 4 + c] += rv[t * 4 + c];
    }
  test::expect_close(y, want_y, 1e-15, "rows");
  test::expect_close(emb.weight().grad(), want_dw, 1e-12, "d_weight");
}

TEST(Embedding, AttendIsTheTiedOutputProjection) {
  Embedding emb(5, 3);
  emb.to(Device::cpu(), DType::f64);
  const Tensor h = test::randn64({2, 3}, 2).requires_grad_();
  const Tensor r = test::randn64({2, 5}, 3);
  const Tensor logits = emb.attend(h);
  gau::sum(gau::mul(logits, r)).backward();
  const std::vector<double> w = test::values(emb.weight()), hv = test::values(h), rv = test::values(r);
  std::vector<double> want(10, 0.0), d_w(15, 0.0), d_h(6, 0.0);
  for (size_t i = 0; i < 2; ++i)
    for (size_t v = 0; v < 5; ++v)
      for (size_t k = 0; k < 3; ++k) {
        want[i * 5 + v] += hv[i * 3 + k] * w[v * 3 + k];
        d_w[v * 3 + k] += rv[i * 5 + v] * hv[i * 3 + k];
        d_h[i * 3 + k] += rv[i * 5 + v] * w[v * 3 + k];
      }
  test::expect_close(logits, want, 1e-12, "logits");
  test::expect_close(emb.weight().grad(), d_w, 1e-12, "d_weight");
  test::expect_close(h.grad(), d_h, 1e-12, "d_h");
  EXPECT_NE(error_of([&] {
              emb.attend(test::randn64({2, 4}, 4));
            }).find("attend expects h [..., 3]"),
            std::string::npos);
}

TEST(Embedding, TiedWeightIsOneParameterWithBothGradients) {
  struct TinyLm : Module {
    TinyLm() : Module("TinyLm") {
      emb = register_module("emb", std::make_shared<Embedding>(6, 4));
      head = register_parameter("head", emb->weight());  // tied: the same tensor
    }
    std::shared_ptr<Embedding> emb;
    Tensor head;
  } lm;
  lm.to(Device::cpu(), DType::f64);
  EXPECT_EQ(lm.parameters().size(), 1u);
  EXPECT_EQ(lm.parameter_count(), 24);
  const Tensor ids = ops::from_vector<int64_t>({1, 4, 2}, {3});
  const Tensor r = test::randn64({3, 6}, 5);
  EXPECT_TRUE(test::module_gradcheck(lm, [&] { return gau::sum(gau::mul(lm.emb->attend(lm.emb->forward(ids)), r)); }));
}

TEST(Embedding, Gradcheck) {
  Embedding emb(5, 3);
  emb.to(Device::cpu(), DType::f64);
  const Tensor ids = ops::from_vector<int64_t>({4, 0, 4, 2}, {2, 2});
  const Tensor r = test::randn64({2, 2, 3}, 6);
  EXPECT_TRUE(test::module_gradcheck(emb, [&] { return gau::sum(gau::mul(emb.forward(ids), r)); }));
}

TEST(Embedding, BadInput) {
  auto emb = build(YAML::Load("{type: embedding, vocab: 10, dim: 4}"), "model.embed");
  std::string msg = error_of([&] { emb->forward(ops::zeros({2, 3})); });
  EXPECT_NE(msg.find("Embedding 'model.embed': expected token ids (i32 or i64) in [0, 10), got f32[2, 3]"),
            std::string::npos)
      << msg;
  msg = error_of([&] { emb->forward(ops::from_vector<int64_t>({3, 10}, {2})); });
  EXPECT_NE(msg.find("is out of range [0, 10)"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { Embedding bad(0, 4); }).find("must be > 0"), std::string::npos);
}

TEST(Embedding, InitIsNormalWithTheConfiguredStd) {
  auto emb = std::dynamic_pointer_cast<Embedding>(build(YAML::Load("{type: embedding, vocab: 1000, dim: 256}")));
  const std::vector<double> v = test::values(emb->weight());
  double sq = 0;
  for (double x : v) sq += x * x;
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(v.size())), 0.02, 0.0005);
  EXPECT_DOUBLE_EQ(emb->config()["init_std"].as<double>(), 0.02);
}

}  // namespace
}  // namespace gau::layers
