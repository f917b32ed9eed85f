// Dropout: identity in eval and at p = 0; in training the kept fraction, the 1 / (1 - p) scale,
// the gradient through the same mask, seeded reproducibility, p = 1, and bad config.
#include "layers/dropout.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"
#include "tests/support/checks.h"

namespace gau::layers {
namespace {

using test::error_of;

TEST(Dropout, IdentityInEvalAndAtZero) {
  const Tensor x = test::randn({4, 8}, DType::f32, 1);
  Dropout m(0.5);
  m.eval();
  EXPECT_TRUE(m.forward(x).same(x));
  Dropout zero(0.0);
  EXPECT_TRUE(zero.is_training());
  EXPECT_TRUE(zero.forward(x).same(x));
}

TEST(Dropout, KeepsAboutOneMinusPScaledAndBackpropagatesThroughTheMask) {
  const double p = 0.3;
  Generator gen(42);
  Dropout m(p, &gen);
  const Tensor x = ops::full({100, 100}, 2.0).requires_grad_();
  const Tensor y = m.forward(x);
  gau::sum(y).backward();
  const std::vector<double> yv = test::values(y), gv = test::values(x.grad());
  int64_t kept = 0;
  for (size_t i = 0; i < yv.size(); ++i) {
    if (yv[i] != 0) {
      ++kept;
      EXPECT_NEAR(yv[i], 2.0 / (1 - p), 1e-6) << i;
      EXPECT_NEAR(gv[i], 1.0 / (1 - p), 1e-6) << i;
    } else {
      EXPECT_EQ(gv[i], 0.0) << i;
    }
  }
  // 10^4 Bernoulli(0.7) draws: the standard deviation of the count is about 46.
  EXPECT_NEAR(static_cast<double>(kept), 7000.0, 250.0);
}

TEST(Dropout, SameSeedSameMaskAndEveryCallANewOne) {
  const Tensor x = test::randn({64}, DType::f32, 2);
  Generator a(7), b(7);
  Dropout da(0.5, &a), db(0.5, &b);
  const std::vector<double> first = test::values(da.forward(x));
  EXPECT_EQ(test::values(db.forward(x)), first);
  EXPECT_NE(test::values(da.forward(x)), first) << "a second call draws a new mask";
}

TEST(Dropout, POneDropsEverythingAndBadPIsRefused) {
  Dropout all(1.0);
  for (double v : test::values(all.forward(test::randn({10}, DType::f32, 3)))) EXPECT_EQ(v, 0.0);
  EXPECT_NE(error_of([] { Dropout bad(1.5); }).find("p must be in [0, 1], got 1.5"), std::string::npos);
  EXPECT_NE(error_of([] { build(YAML::Load("{type: dropout, p: -0.1}"), "m.drop"); }).find("m.drop.p"),
            std::string::npos);
  auto m = build(YAML::Load("{type: dropout, p: 0.2}"), "m.drop");
  EXPECT_NE(error_of([&] { m->forward(ops::zeros({2}, DType::i64)); }).find("Dropout 'm.drop': expected a floating"),
            std::string::npos);
}

}  // namespace
}  // namespace gau::layers
