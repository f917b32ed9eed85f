// gradcheck of reductions, matmul/bmm, softmax family, index ops and cross-entropy.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::randn64;
using test::uniform64;
using In = std::vector<Tensor>;

Tensor ids(std::vector<int64_t> v, Shape shape) { return ops::from_vector<int64_t>(v, shape); }

// ---- reductions ----

TEST(ReduceGrad, Sum) {
  Tensor x = randn64({2, 3, 4}, 1);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::sum(in[0]); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::sum(in[0], {1}); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::sum(in[0], {0, -1}, true); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::sum(gau::transpose(in[0], 0, 2), {1}); }, {x});
}

TEST(ReduceGrad, Mean) {
  Tensor x = randn64({2, 3, 4}, 2);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::mean(in[0]); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::mean(in[0], {2}, true); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::mean(gau::slice(in[0], 2, 0, 4, 2), {0, 2}); }, {x});
}

TEST(ReduceGrad, Var) {
  Tensor x = randn64({3, 5}, 3);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::var(in[0]); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::var(in[0], {1}, 0, false); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::var(gau::transpose(in[0], 0, 1), {1}, 1, true); }, {x});
}

TEST(ReduceGrad, Max) {
  Tensor x = randn64({3, 5}, 4);  // distinct values: no ties
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::max(in[0], 1); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::max(in[0], 0, true); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::max(gau::transpose(in[0], 0, 1), -1); }, {x});
}

TEST(ReduceGrad, MaxSendsTiesToTheFirstIndexOnly) {
  Tensor x = ops::from_vector<double>({2, 5, 5, 1}, {4}).requires_grad_();
  gau::max(x, 0).backward();
  GAU_EXPECT_CLOSE(x.grad(), ops::from_vector<double>({0, 1, 0, 0}, {4}), 0, 0);
}

TEST(ReduceGrad, Logsumexp) {
  Tensor x = randn64({3, 4}, 5);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::logsumexp(in[0], 1); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::logsumexp(in[0], 0, true); }, {x});
}

TEST(ReduceGrad, Cumsum) {
  Tensor x = randn64({3, 4}, 6);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::cumsum(in[0], 1); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::cumsum(in[0], 0, true); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::cumsum(gau::transpose(in[0], 0, 1), 1, true); }, {x});
}

TEST(ReduceGrad, SumTo) {
  Tensor x = randn64({2, 3, 4}, 7);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::sum_to(in[0], {3, 1}); }, {x});
}

// ---- matmul ----

struct MatmulCase {
  bool ta, tb;
};

class MatmulGrad : public ::testing::TestWithParam<MatmulCase> {};

ops::MatmulOptions options(MatmulCase c, double alpha) {
  ops::MatmulOptions o;
  o.trans_a = c.ta;
  o.trans_b = c.tb;
  o.alpha = alpha;
  return o;
}

Shape mat(bool trans, int64_t rows, int64_t cols, Shape batch = {}) {
  batch.push_back(trans ? cols : rows);
  batch.push_back(trans ? rows : cols);
  return batch;
}

TEST_P(MatmulGrad, TwoD) {
  MatmulCase c = GetParam();
  Tensor a = randn64(mat(c.ta, 3, 4), 10), b = randn64(mat(c.tb, 4, 5), 11);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::matmul(in[0], in[1], options(c, 0.5)); }, {a, b});
}

TEST_P(MatmulGrad, BatchedWithSharedWeight) {
  MatmulCase c = GetParam();
  Tensor a = randn64(mat(c.ta, 3, 4, {2, 2}), 12), b = randn64(mat(c.tb, 4, 5), 13);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::matmul(in[0], in[1], options(c, 1.5)); }, {a, b});
  Tensor a2 = randn64(mat(c.ta, 3, 4), 14), b2 = randn64(mat(c.tb, 4, 5, {2}), 15);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::matmul(in[0], in[1], options(c, 1.0)); }, {a2, b2});
}

TEST_P(MatmulGrad, BroadcastBatch) {
  MatmulCase c = GetParam();
  Tensor a = randn64(mat(c.ta, 2, 3, {2, 1}), 16), b = randn64(mat(c.tb, 3, 2, {1, 3}), 17);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::matmul(in[0], in[1], options(c, 1.0)); }, {a, b});
}

TEST_P(MatmulGrad, Bmm) {
  MatmulCase c = GetParam();
  Tensor a = randn64(mat(c.ta, 3, 4, {2}), 18), b = randn64(mat(c.tb, 4, 2, {2}), 19);
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::bmm(in[0], in[1], options(c, 2.0)); }, {a, b});
}

TEST_P(MatmulGrad, NonContiguousOperands) {
  MatmulCase c = GetParam();
  // Operands are transposed views of the checked inputs.
  Tensor a = randn64(mat(!c.ta, 3, 4), 20), b = randn64(mat(!c.tb, 4, 5), 21);
  GAU_EXPECT_GRADCHECK(
      [&](const In& in) {
        return gau::matmul(gau::transpose(in[0], 0, 1), gau::transpose(in[1], 0, 1), options(c, 1.0));
      },
      {a, b});
}

INSTANTIATE_TEST_SUITE_P(Transposes, MatmulGrad,
                         ::testing::Values(MatmulCase{false, false}, MatmulCase{true, false}, MatmulCase{false, true},
                                           MatmulCase{true, true}),
                         [](const ::testing::TestParamInfo<MatmulCase>& info) {
                           return std::string(info.param.ta ? "Ta" : "Na") + (info.param.tb ? "Tb" : "Nb");
                         });

// ---- softmax family ----

TEST(SoftmaxGrad, Softmax) {
  Tensor x = randn64({3, 5}, 30);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::softmax(in[0], -1); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::softmax(in[0], 0); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::softmax(gau::transpose(in[0], 0, 1), 1); }, {x});
}

TEST(SoftmaxGrad, LogSoftmax) {
  Tensor x = randn64({3, 5}, 31);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::log_softmax(in[0], -1); }, {x});
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::log_softmax(gau::transpose(in[0], 0, 1), 0); }, {x});
}

// ---- index ops ----

TEST(IndexGrad, EmbeddingWithRepeatedIds) {
  Tensor weight = randn64({5, 3}, 32);
  Tensor tokens = ids({0, 3, 3, 4, 0, 1}, {2, 3});
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::embedding(in[0], tokens); }, {weight});
}

TEST(IndexGrad, GatherRows) {
  Tensor x = randn64({4, 6}, 33);
  Tensor index = ids({5, 0, 2, 2}, {4});
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::gather_rows(in[0], index); }, {x});
}

// ---- loss ----

TEST(LossGrad, CrossEntropy) {
  Tensor logits = randn64({4, 5}, 34);
  Tensor targets = ids({1, 0, 4, 2}, {4});
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::cross_entropy(in[0], targets); }, {logits});
}

TEST(LossGrad, CrossEntropyIgnoreIndexAndSmoothing) {
  Tensor logits = randn64({4, 5}, 35);
  Tensor targets = ids({1, -100, 4, 2}, {4});
  ops::CrossEntropyOptions opt;
  opt.label_smoothing = 0.1;
  GAU_EXPECT_GRADCHECK([&](const In& in) { return gau::cross_entropy(in[0], targets, opt); }, {logits});
  // Logits through a non-contiguous view, and scaled upstream gradient.
  GAU_EXPECT_GRADCHECK(
      [&](const In& in) { return gau::mul(gau::cross_entropy(gau::transpose(in[0], 0, 1), targets, opt), 3.0); },
      {randn64({5, 4}, 36)});
}

}  // namespace
}  // namespace gau
