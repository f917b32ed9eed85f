// gradcheck (f64 central differences) of the layer ops: layer_norm, rms_norm and scale_norm in x
// and every parameter, dropout (a fixed mask, so linear in x) and rope; and what each records.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "core/ops/rope.h"
#include "core/ops/view.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::randn64;
using In = std::vector<Tensor>;

TEST(NormGrad, LayerNorm) {
  Tensor x = randn64({2, 3, 6}, 1), w = randn64({6}, 2, 0.5), b = randn64({6}, 3);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::layer_norm(in[0], in[1], in[2], 1e-5); }, {x, w, b});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::layer_norm(in[0]); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::layer_norm(in[0], in[1]); }, {x, w});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::layer_norm(in[0], Tensor(), in[1]); }, {x, b});
  // A strided x, and a composite after the norm (the backward receives a non-trivial d_y).
  GAU_EXPECT_GRADCHECK(
      [](const In& in) { return gau::mul(gau::layer_norm(gau::transpose(in[0], 0, 2), in[1], in[2]), in[0].size(0)); },
      {randn64({6, 3, 6}, 4), w, b});
}

TEST(NormGrad, RmsNorm) {
  Tensor x = randn64({4, 5}, 5), w = randn64({5}, 6, 0.5);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::rms_norm(in[0], in[1], 1e-6); }, {x, w});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::rms_norm(in[0]); }, {x});
}

TEST(NormGrad, ScaleNorm) {
  Tensor x = randn64({3, 2, 4}, 7), g = ops::full({1}, 2.0, DType::f64);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::scale_norm(in[0], in[1], 1e-5); }, {x, g});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::scale_norm(in[0], in[1]); }, {x, ops::full({}, 0.5, DType::f64)});
  // Rows below eps are clamped: y = g x / eps, still exactly differentiable away from the kink.
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::scale_norm(in[0], in[1], 10.0); }, {x, g});
}

TEST(NormGrad, OnlyTheInputsThatNeedGradientsGetThem) {
  Tensor x = randn64({2, 4}, 8).requires_grad_(), w = randn64({4}, 9), b = randn64({4}, 10);
  gau::sum(gau::layer_norm(x, w, b)).backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  Tensor x2 = randn64({2, 4}, 8), w2 = randn64({4}, 9).requires_grad_();
  gau::sum(gau::mul(gau::rms_norm(x2, w2), randn64({2, 4}, 11))).backward();
  EXPECT_TRUE(w2.grad().defined());
  EXPECT_EQ(w2.grad().shape(), Shape({4}));
}

TEST(DropoutGrad, BackwardRegeneratesTheMask) {
  Tensor x = randn64({5, 8}, 12, 0.1);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::dropout(in[0], 0.4, 17, 3); }, {x});
  // d_x is d_y through the same mask: zero exactly where y is zero.
  Tensor xl = randn64({5, 8}, 12, 0.1).requires_grad_();
  Tensor y = gau::dropout(xl, 0.4, 17, 3);
  gau::sum(y).backward();
  std::vector<double> yv = test::values(y), gv = test::values(xl.grad());
  for (size_t i = 0; i < yv.size(); ++i) EXPECT_DOUBLE_EQ(gv[i], yv[i] == 0 ? 0.0 : 1 / 0.6) << i;
  EXPECT_TRUE(gau::dropout(xl, 0, 17, 3).same(xl)) << "p = 0 is the identity and records nothing";
}

TEST(RopeGrad, InverseRotation) {
  Tensor table = ops::rope_table(12, 4, 10000, DType::f64);
  Tensor x = randn64({2, 3, 6}, 13).requires_grad_();
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::rope(in[0], table, 5); }, {x});
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::rope(gau::transpose(in[0], 0, 1), table); }, {x});
}

}  // namespace
}  // namespace gau
