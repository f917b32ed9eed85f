// gradcheck of the shape/view ops and copies.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::randn64;
using In = std::vector<Tensor>;

TEST(ViewGrad, ReshapeViewFlattenSqueeze) {
  Tensor x = randn64({2, 3, 4}, 1);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::reshape(in[0], {4, -1}); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::view(in[0], {6, 4}); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::flatten(in[0], 1); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::squeeze(gau::unsqueeze(in[0], 1), 1); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::unsqueeze(in[0], -1); }, {x});
  // reshape of a non-viewable layout copies; the gradient must still come back in x's layout.
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::reshape(gau::transpose(in[0], 0, 2), {-1}); }, {x});
}

TEST(ViewGrad, PermuteTranspose) {
  Tensor x = randn64({2, 3, 4}, 2);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::permute(in[0], {2, 0, 1}); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::transpose(in[0], -1, 0); }, {x});
}

TEST(ViewGrad, NarrowSliceSelect) {
  Tensor x = randn64({4, 5}, 3);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::narrow(in[0], 1, 1, 3); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::slice(in[0], 1, -4, 5, 2); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::select(in[0], 0, 2); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::select(gau::transpose(in[0], 0, 1), 0, -1); }, {x});
}

TEST(ViewGrad, Expand) {
  Tensor x = randn64({3, 1}, 4);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::expand(in[0], {2, 3, 4}); }, {x});
}

TEST(ViewGrad, ChunkAndSplitOneNodeManyOutputs) {
  Tensor x = randn64({7, 2}, 5);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::chunk(in[0], 3, 0); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::split(in[0], {1, 1}, 1); }, {x});
  // Only some pieces reach the loss: the others count as zeros.
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::mul(gau::split(in[0], {2, 4, 1}, 0)[1], 2.0); }, {x});
}

TEST(ViewGrad, CatStack) {
  Tensor a = randn64({2, 3}, 6), b = randn64({2, 1}, 7), c = randn64({2, 3}, 8);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::cat({in[0], in[1], in[2]}, 1); }, {a, b, c});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::stack({in[0], in[2]}, 1); }, {a, b, c});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::stack({in[0], gau::transpose(in[1], 0, 1)}, -1); },
                       {randn64({3, 2}, 9), randn64({2, 3}, 10)});
}

TEST(ViewGrad, CatWithAnInputThatNeedsNoGrad) {
  Tensor a = randn64({2}, 11).requires_grad_();
  Tensor constant = randn64({3}, 12);
  gau::sum(gau::mul(gau::cat({constant, a}), 2.0)).backward();
  GAU_EXPECT_CLOSE(a.grad(), ops::full({2}, 2.0, DType::f64), 0, 0);
}

TEST(CopyGrad, DtypeRoundTripContiguousClone) {
  Tensor x = randn64({2, 3}, 13);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::to_dtype(gau::to_dtype(in[0], DType::f32), DType::f64); }, {x},
                       GradcheckOptions{1e-3, 1e-3, 1e-2});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::contiguous(gau::transpose(in[0], 0, 1)); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::clone(in[0]); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::to_device(in[0], Device::cpu()); }, {x});
}

TEST(CopyGrad, LowPrecisionLeafGetsAGradientInItsDtype) {
  Tensor w = ops::ones({4}, DType::bf16).requires_grad_();
  gau::sum(gau::to_dtype(gau::mul(w, 3.0), DType::f32)).backward();
  ASSERT_EQ(w.grad().dtype(), DType::bf16);
  GAU_EXPECT_CLOSE(w.grad(), ops::full({4}, 3.0, DType::f32), 0, 0);
}

}  // namespace
}  // namespace gau
