// The engine: gradients through chains and diamonds, accumulation, retain_graph, retain_grad,
// grad mode, detach, in-place checks on saved tensors, error paths and tape pruning.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::error_of;

TEST(Tape, ChainRule) {
  Tensor x = test::vec64({1, 2, 3}).requires_grad_();
  Tensor y = gau::sum(gau::mul(gau::exp(x), x));  // d/dx = e^x (1 + x)
  y.backward();
  Tensor expected = test::vec64({std::exp(1.0) * 2, std::exp(2.0) * 3, std::exp(3.0) * 4});
  GAU_EXPECT_CLOSE(x.grad(), expected, 1e-12, 1e-12);
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
}

TEST(Tape, DiamondAndLeafUsedTwice) {
  Tensor x = test::vec64({0.5, -1.5}).requires_grad_();
  Tensor a = gau::mul(x, 3.0);
  Tensor b = gau::exp(a);
  Tensor c = gau::mul(a, b);           // a reaches c twice: directly and through b
  Tensor loss = gau::sum(gau::add(c, x));  // x reaches the loss twice
  loss.backward();
  std::vector<double> want;
  for (double v : {0.5, -1.5}) {
    double av = 3 * v, e = std::exp(av);
    want.push_back(3 * (e + av * e) + 1);
  }
  GAU_EXPECT_CLOSE(x.grad(), test::vec64(want), 1e-12, 1e-12);
}

TEST(Tape, LeafGradientsAccumulateAcrossBackwardCalls) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  gau::sum(gau::mul(x, 2.0)).backward();
  gau::sum(gau::mul(x, 3.0)).backward();
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({5, 5}), 0, 0);
  x.zero_grad();
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({0, 0}), 0, 0);
}

TEST(Tape, AccumulatesInPlaceIntoAnInstalledGradientBuffer) {
  // Parameters' gradients live in one flat buffer: backward must write into the view, not replace it.
  Tensor flat = ops::zeros({5}, DType::f64);
  Tensor w = test::vec64({1, 2, 3}).requires_grad_();
  Tensor w_grad = ops::narrow(flat, 0, 1, 3);
  w.set_grad(w_grad);
  gau::sum(gau::mul(w, w)).backward();
  gau::sum(w).backward();
  EXPECT_TRUE(w.grad().same(w_grad));
  GAU_EXPECT_CLOSE(flat, test::vec64({0, 3, 5, 7, 0}), 0, 0);
}

TEST(Tape, RetainGraphAllowsASecondBackward) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor y = gau::sum(gau::mul(x, x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({4, 8}), 0, 0);
}

TEST(Tape, SecondBackwardWithoutRetainGraphIsAnError) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor y = gau::sum(gau::mul(x, x));
  y.backward();
  std::string msg = error_of([&] { y.backward(); });
  EXPECT_NE(msg.find("backward through 'sum' a second time"), std::string::npos) << msg;
  EXPECT_NE(msg.find("retain_graph=true"), std::string::npos) << msg;
}

TEST(Tape, InPlaceChangeOfASavedTensorIsAnErrorNamingTheOp) {
  Tensor x = test::vec64({1, 2, 3}).requires_grad_();
  Tensor w = test::vec64({4, 5, 6});
  Tensor y = gau::sum(gau::mul(x, w));  // mul saves w
  ops::binary_scalar_(ops::Binary::add, w, 1.0);
  std::string msg = error_of([&] { y.backward(); });
  EXPECT_NE(msg.find("'mul'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f64[3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("saved at version 0, now at version 1"), std::string::npos) << msg;
}

TEST(Tape, NonScalarBackwardNeedsGradOutput) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor y = gau::mul(x, 2.0);
  std::string msg = error_of([&] { y.backward(); });
  EXPECT_NE(msg.find("grad_output must be given for a non-scalar output"), std::string::npos) << msg;
  y.backward(test::vec64({1, 10}));
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({2, 20}), 0, 0);
}

TEST(Tape, RequiresGradOnlyOnFloatingTensors) {
  Tensor ids = ops::from_vector<int64_t>({1, 2}, {2});
  std::string msg = error_of([&] { ids.requires_grad_(); });
  EXPECT_NE(msg.find("only floating tensors can require gradients"), std::string::npos) << msg;
  EXPECT_NE(msg.find("i64[2]"), std::string::npos) << msg;
}

TEST(Tape, BackwardOfATensorWithoutGradIsAnError) {
  Tensor x = test::vec64({1, 2});
  std::string msg = error_of([&] { gau::sum(x).backward(); });
  EXPECT_NE(msg.find("does not require grad"), std::string::npos) << msg;
}

TEST(Tape, NoGradRecordsNothing) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  {
    NoGradGuard guard;
    EXPECT_FALSE(is_grad_enabled());
    Tensor y = gau::mul(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    EnableGradGuard inner;
    EXPECT_TRUE(gau::mul(x, x).requires_grad());
  }
  EXPECT_TRUE(is_grad_enabled());
}

TEST(Tape, RetainGradKeepsANonLeafGradient) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor h = gau::mul(x, 3.0);
  h.retain_grad();
  Tensor other = gau::mul(x, 5.0);  // not retained
  gau::sum(gau::add(gau::mul(h, h), other)).backward();
  GAU_EXPECT_CLOSE(h.grad(), test::vec64({6, 12}), 0, 0);
  EXPECT_FALSE(other.grad().defined());
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({18 + 5, 36 + 5}), 0, 0);
}

TEST(Tape, DetachCutsTheGraphButSharesData) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor y = gau::mul(x, 2.0);
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.data_ptr(), y.data_ptr());
  gau::sum(gau::mul(d, x)).backward();
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({2, 4}), 0, 0);  // no path through d
}

TEST(Tape, RequiresGradFalseOnANonLeafIsAnError) {
  Tensor x = test::vec64({1}).requires_grad_();
  Tensor y = gau::mul(x, 2.0);
  std::string msg = error_of([&] { y.requires_grad_(false); });
  EXPECT_NE(msg.find("only leaves"), std::string::npos) << msg;
}

TEST(Tape, OpThatReturnsItsInputGetsItsOwnNode) {
  // contiguous() of a contiguous tensor is the same tensor in the kernel: the wrapper must not
  // overwrite the input's autograd state.
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor y = gau::contiguous(x);
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  gau::sum(gau::mul(y, 3.0)).backward();
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({3, 3}), 0, 0);
}

TEST(Tape, PostAccumulateHookSeesTheGradient) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  int calls = 0;
  autograd::register_post_accumulate_hook(x, [&](const Tensor& g) {
    ++calls;
    EXPECT_EQ(g.numel(), 2);
  });
  gau::sum(gau::mul(x, x)).backward();
  EXPECT_EQ(calls, 1);
}

TEST(Tape, IsPrunedOfDeadNodes) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  const auto& tape = autograd::current_tape();
  for (int step = 0; step < 20000; ++step) {
    Tensor y = gau::sum(gau::mul(x, 2.0));
    if (step % 1000 == 0) y.backward();
  }
  EXPECT_LT(tape->size(), 5000u);
}

TEST(Tape, SkipsBranchesThatDoNotReachTheRoot) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor unrelated = gau::exp(x);  // recorded after nothing, before the root: never run
  Tensor y = gau::sum(gau::mul(x, 4.0));
  Tensor later = gau::log(x);  // recorded after the root
  y.backward();
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({4, 4}), 0, 0);
  // Both unrelated graphs are still intact.
  gau::sum(unrelated).backward();
  gau::sum(later).backward();
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({4 + std::exp(1.0) + 1.0, 4 + std::exp(2.0) + 0.5}), 1e-12, 1e-12);
}

TEST(Tape, MultipleRoots) {
  Tensor x = test::vec64({1, 2}).requires_grad_();
  Tensor a = gau::mul(x, 2.0), b = gau::mul(x, x);
  autograd::backward({a, b}, {test::vec64({1, 1}), test::vec64({1, 1})});
  GAU_EXPECT_CLOSE(x.grad(), test::vec64({4, 6}), 0, 0);
}

}  // namespace
}  // namespace gau
