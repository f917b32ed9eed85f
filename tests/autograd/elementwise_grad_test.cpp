// gradcheck of every differentiable elementwise op, with broadcasting and non-contiguous inputs.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/elementwise.h"
#include "core/ops/view.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::randn64;
using test::uniform64;
using In = std::vector<Tensor>;

struct UnaryCase {
  ops::Unary op;
  double low, high;  // input range where the function is smooth
};

class UnaryGrad : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryGrad, Gradcheck) {
  UnaryCase c = GetParam();
  Tensor x = uniform64({3, 4}, 11, c.low, c.high);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::unary(c.op, in[0]); }, {x});
  // Transposed (non-contiguous) input.
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::unary(c.op, gau::transpose(in[0], 0, 1)); }, {x});
}

INSTANTIATE_TEST_SUITE_P(
    AllOps, UnaryGrad,
    ::testing::Values(UnaryCase{ops::Unary::neg, -2, 2}, UnaryCase{ops::Unary::exp, -2, 2},
                      UnaryCase{ops::Unary::log, 0.5, 3}, UnaryCase{ops::Unary::sqrt, 0.5, 3},
                      UnaryCase{ops::Unary::rsqrt, 0.5, 3}, UnaryCase{ops::Unary::abs, 0.2, 2},
                      UnaryCase{ops::Unary::tanh, -2, 2}, UnaryCase{ops::Unary::sigmoid, -3, 3},
                      UnaryCase{ops::Unary::relu, 0.1, 2}, UnaryCase{ops::Unary::relu2, 0.1, 2},
                      UnaryCase{ops::Unary::silu, -3, 3}, UnaryCase{ops::Unary::gelu, -3, 3},
                      UnaryCase{ops::Unary::erf, -2, 2}, UnaryCase{ops::Unary::laplace, -1, 2}),
    [](const ::testing::TestParamInfo<UnaryCase>& info) { return std::string(ops::unary_name(info.param.op)); });

TEST(UnaryGradNamed, NegativeSideOfKinks) {
  Tensor x = uniform64({5}, 12, -2, -0.1);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::relu(in[0]); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::relu2(in[0]); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::abs(in[0]); }, {x});
}

struct BinaryCase {
  ops::Binary op;
  bool positive_a;  // pow needs a > 0
};

class BinaryGrad : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryGrad, SameShape) {
  BinaryCase c = GetParam();
  Tensor a = c.positive_a ? uniform64({2, 3}, 1, 0.5, 2) : randn64({2, 3}, 1);
  Tensor b = uniform64({2, 3}, 2, 0.5, 2);  // away from 0 (div) and from a (max/min ties)
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::binary(c.op, in[0], in[1]); }, {a, b});
}

TEST_P(BinaryGrad, Broadcasting) {
  BinaryCase c = GetParam();
  Tensor a = c.positive_a ? uniform64({2, 1, 4}, 3, 0.5, 2) : randn64({2, 1, 4}, 3);
  Tensor b = uniform64({3, 1}, 4, 0.5, 2);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::binary(c.op, in[0], in[1]); }, {a, b});
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::binary(c.op, in[1], in[0]); }, {a, b});
}

TEST_P(BinaryGrad, NonContiguous) {
  BinaryCase c = GetParam();
  Tensor a = c.positive_a ? uniform64({4, 3}, 5, 0.5, 2) : randn64({4, 3}, 5);
  Tensor b = uniform64({3, 6}, 6, 0.5, 2);
  GAU_EXPECT_GRADCHECK(
      [&](const In& in) {
        return gau::binary(c.op, gau::transpose(in[0], 0, 1), gau::slice(in[1], 1, 0, 6, 2));  // [3, 3] each
      },
      {ops::slice(a, 0, 0, 3), b});
}

INSTANTIATE_TEST_SUITE_P(AllOps, BinaryGrad,
                         ::testing::Values(BinaryCase{ops::Binary::add, false}, BinaryCase{ops::Binary::sub, false},
                                           BinaryCase{ops::Binary::mul, false}, BinaryCase{ops::Binary::div, false},
                                           BinaryCase{ops::Binary::pow, true}, BinaryCase{ops::Binary::maximum, false},
                                           BinaryCase{ops::Binary::minimum, false}),
                         [](const ::testing::TestParamInfo<BinaryCase>& info) {
                           return std::string(ops::binary_name(info.param.op));
                         });

TEST(ScalarGrad, AllScalarForms) {
  Tensor a = uniform64({2, 3}, 7, 0.5, 2);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::add(in[0], 1.5); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::sub(in[0], 1.5); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::mul(in[0], -2.5); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::div(in[0], 3.0); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::pow(in[0], 2.5); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::pow(in[0], 0.0); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::maximum(in[0], 1.1); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::minimum(in[0], 1.1); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::rsub(2.0, in[0]); }, {a});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::rdiv(2.0, in[0]); }, {a});
}

TEST(ScalarGrad, Operators) {
  Tensor a = uniform64({3}, 8, 0.5, 2), b = uniform64({3}, 9, 0.5, 2);
  GAU_EXPECT_GRADCHECK(
      [](const In& in) {
        const Tensor &x = in[0], &y = in[1];
        return -x + y * 2.0 - x / y + 3.0 * x - (1.0 - y) / 2.0 + 1.0 / x + (x - 1.0) * (y + 1.0);
      },
      {a, b});
}

TEST(SelectionGrad, WhereBroadcasting) {
  Tensor cond = ops::compare_scalar(ops::Compare::gt, randn64({2, 3}, 10), 0.0);
  Tensor a = randn64({2, 3}, 11), b = randn64({3}, 12);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::where(cond, in[0], in[1]); }, {a, b});
}

TEST(SelectionGrad, MaskedFill) {
  Tensor mask = ops::compare_scalar(ops::Compare::gt, randn64({1, 4}, 13), 0.0);
  Tensor x = randn64({3, 4}, 14);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::masked_fill(in[0], mask, -3.0); }, {x});
}

class BiasActGrad : public ::testing::TestWithParam<ops::Activation> {};

TEST_P(BiasActGrad, Gradcheck) {
  Tensor x = randn64({2, 3, 4}, 15, 0.2), bias = uniform64({4}, 16, -0.05, 0.05);
  ops::Activation act = GetParam();
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::bias_act(in[0], in[1], act); }, {x, bias});
}

INSTANTIATE_TEST_SUITE_P(AllActivations, BiasActGrad,
                         ::testing::Values(ops::Activation::none, ops::Activation::relu, ops::Activation::relu2,
                                           ops::Activation::silu, ops::Activation::gelu));

TEST(FusedGrad, ScaleOffset) {
  Tensor x = randn64({2, 3, 4}, 17), gamma = randn64({4}, 18), beta = randn64({4}, 19);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::scale_offset(in[0], in[1], in[2]); }, {x, gamma, beta});
  // Non-contiguous x: a permuted view.
  GAU_EXPECT_GRADCHECK(
      [](const In& in) { return gau::scale_offset(gau::permute(in[0], {2, 1, 0}), in[1], in[2]); },
      {randn64({4, 3, 2}, 20), randn64({4}, 21), randn64({4}, 22)});
}

}  // namespace
}  // namespace gau
