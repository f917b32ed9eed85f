// ScaleOffset against a naive f64 loop (every head, d_z and the gradients of gamma and beta),
// its initialisation, gradcheck and bad input.
#include "layers/scale_offset.h"

#include <gtest/gtest.h>

#include <cmath>
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

// out [h, rows, s]: out[i][r][j] = z[r][j] * gamma[i][j] + beta[i][j]
naive::Vec reference(const naive::Params& p, const naive::Vec& z, int64_t heads, int64_t s) {
  const naive::Vec &g = p.at("gamma"), &b = p.at("beta");
  const size_t rows = z.size() / naive::at(s);
  naive::Vec out(naive::at(heads) * z.size());
  for (int64_t i = 0; i < heads; ++i)
    for (size_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < s; ++j)
        out[naive::at(i) * z.size() + r * naive::at(s) + naive::at(j)] =
            z[r * naive::at(s) + naive::at(j)] * g[naive::at(i * s + j)] + b[naive::at(i * s + j)];
  return out;
}

TEST(ScaleOffset, HeadsMatchTheReference) {
  for (DType dt : {DType::f64, DType::f32}) {
    SCOPED_TRACE(dtype_name(dt));
    ScaleOffset m(5, 4);  // FLASH's four heads
    m.to(Device::cpu(), dt);
    {
      NoGradGuard no_grad;  // beta away from zero, so that a missing offset shows
      ops::copy_(m.beta(), test::randn({4, 5}, dt, 1));
    }
    naive::expect_matches(
        m, test::randn({2, 3, 5}, dt, 2),
        [&](const Tensor& z) {
          const std::vector<Tensor> heads = m.forward_heads(z);
          EXPECT_EQ(heads.size(), 4u);
          EXPECT_EQ(heads[3].shape(), (Shape{2, 3, 5}));
          return gau::stack(heads, 0);
        },
        [](const naive::Params& p, const naive::Vec& z) { return reference(p, z, 4, 5); }, test::ref_tol(dt));
  }
}

TEST(ScaleOffset, InitIsGauGammaAndZeroBeta) {
  ScaleOffset m(128, 2);
  double sum = 0, sq = 0;
  for (double v : test::values(m.gamma())) sum += v, sq += v * v;
  const double n = 256, mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(sd, 0.02, 0.004);
  EXPECT_NEAR(mean, 0.0, 0.004);
  for (double v : test::values(m.beta())) EXPECT_EQ(v, 0.0);
}

TEST(ScaleOffset, Gradcheck) {
  ScaleOffset m(3, 2);
  m.to(Device::cpu(), DType::f64);
  const Tensor z = test::randn64({2, 3}, 3), r = test::randn64({2, 2, 3}, 4);
  EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(z), r)); }));
  GAU_EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return m.forward_heads(in[0])[1]; },
                       {test::randn64({4, 3}, 5)});
}

TEST(ScaleOffset, BadInputNamesTheLayerAndItsPath) {
  auto m = build(YAML::Load("{type: scale_offset, dim: 16, heads: 2}"), "model.blocks[0].qk");
  const std::string msg = error_of([&] { m->forward(ops::zeros({2, 8})); });
  EXPECT_NE(msg.find("ScaleOffset 'model.blocks[0].qk': expected z [..., 16], got f32[2, 8] on cpu"), std::string::npos)
      << msg;
  EXPECT_NE(error_of([] { build(YAML::Load("{type: scale_offset, dim: 16, heads: 0}"), "m.qk"); }).find("m.qk.heads"),
            std::string::npos);
}

}  // namespace
}  // namespace gau::layers
