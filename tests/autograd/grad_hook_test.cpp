// Gradient-ready hooks: a leaf's hook runs once per backward call, right after the last node that
// contributes to its gradient, and sees the final gradient of that call.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/meta.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::error_of;

// A differentiable identity that appends `name` to `log` when its backward runs, so the test sees
// the order of node execution beside the hook calls.
Tensor traced(const Tensor& x, std::vector<std::string>* log, std::string name) {
  if (!autograd::needs_record({x})) return x;
  return autograd::record("traced", {x}, ops::clone(x), {},
                          [log, name](autograd::Context&, const std::vector<Tensor>& d) {
                            log->push_back(name);
                            return std::vector<Tensor>{d[0]};
                          });
}

TEST(GradHook, FiresRightAfterTheOnlyNodeThatUsesTheLeafOnALongChain) {
  // 100 nodes: a leaf `w` enters only at the last op; the hook must run right after that op's
  // backward, i.e. before the other 99 nodes, not at the end of the walk.
  std::vector<std::string> log;
  Tensor x = test::vec64({0.5, 1.5}).requires_grad_();
  Tensor w = test::vec64({2.0, 3.0}).requires_grad_();
  autograd::register_post_accumulate_hook(w, [&](const Tensor& g) {
    log.push_back("hook w");
    test::expect_close(g, {0.5, 1.5}, 1e-15, "w's gradient when its hook runs");
  });
  Tensor y = x;
  for (int i = 0; i < 99; ++i) y = traced(y, &log, "node " + std::to_string(i));
  Tensor loss = gau::sum(traced(gau::mul(y, w), &log, "last"));
  loss.backward();
  ASSERT_EQ(log.size(), 101u);
  EXPECT_EQ(log[0], "last");
  EXPECT_EQ(log[1], "hook w") << "the hook waited for nodes that do not touch w";
  EXPECT_EQ(log[2], "node 98");
  EXPECT_EQ(log.back(), "node 0");
}

TEST(GradHook, LeafUsedBySeveralOpsFiresAfterItsLastContribution) {
  std::vector<std::string> log;
  Tensor w = test::vec64({1.0, 2.0}).requires_grad_();
  autograd::register_post_accumulate_hook(w, [&](const Tensor& g) {
    log.push_back("hook w");
    // d/dw of sum(w * 3) + sum(w * w) + sum(exp-free chain) = 3 + 2w + 1
    test::expect_close(g, {3 + 2 * 1.0 + 1, 3 + 2 * 2.0 + 1}, 1e-15, "w's gradient when its hook runs");
  });
  Tensor a = traced(gau::mul(w, 3.0), &log, "first use");  // recorded first: runs last
  Tensor b = traced(gau::mul(w, w), &log, "second use");
  Tensor c = traced(gau::add(a, b), &log, "join");
  Tensor d = traced(gau::add(c, w), &log, "third use");  // recorded last: runs first
  Tensor after = traced(d, &log, "after");
  gau::sum(after).backward();
  std::vector<std::string> want = {"after", "third use", "join", "second use", "first use", "hook w"};
  EXPECT_EQ(log, want);
}

TEST(GradHook, FiresOncePerBackwardAndOnlyForLeavesThatGotAGradient) {
  Tensor x = test::vec64({1.0, 2.0}).requires_grad_();
  Tensor unused = test::vec64({1.0}).requires_grad_();
  int x_calls = 0, unused_calls = 0;
  autograd::register_post_accumulate_hook(x, [&](const Tensor&) { ++x_calls; });
  autograd::register_post_accumulate_hook(unused, [&](const Tensor&) { ++unused_calls; });
  for (int step = 0; step < 3; ++step) gau::sum(gau::mul(x, x)).backward();
  EXPECT_EQ(x_calls, 3);
  EXPECT_EQ(unused_calls, 0);
}

TEST(GradHook, LeafUsedInsideAndOutsideACheckpointFiresOnce) {
  Tensor x = test::vec64({0.5, -1.0}).requires_grad_();
  Tensor w = test::vec64({2.0, 3.0}).requires_grad_();
  int calls = 0;
  std::vector<double> seen;
  autograd::register_post_accumulate_hook(w, [&](const Tensor& g) {
    ++calls;
    seen = test::values(g);
  });
  Tensor inside =
      gau::checkpoint([&](const std::vector<Tensor>& in) { return gau::mul(gau::exp(in[0]), w); }, {x}, {w});
  Tensor loss = gau::sum(gau::add(inside, gau::mul(w, w)));  // w also used outside
  loss.backward();
  EXPECT_EQ(calls, 1);
  // d/dw = exp(x) + 2w: the hook saw both contributions.
  test::expect_close(seen, {std::exp(0.5) + 4.0, std::exp(-1.0) + 6.0}, 1e-14, "w's gradient in its hook");
}

TEST(GradHook, CheckpointReadingAnUnlistedHookedLeafIsAnError) {
  // w is read inside the checkpoint but not listed in `params`: the outer walk cannot know the
  // checkpoint contributes, and would run w's hook before the recompute's gradient arrives.
  Tensor x = test::vec64({0.5, -1.0}).requires_grad_();
  Tensor w = test::vec64({2.0, 3.0}).requires_grad_();
  autograd::register_post_accumulate_hook(w, [](const Tensor&) {});
  Tensor inside = gau::checkpoint([&](const std::vector<Tensor>& in) { return gau::mul(in[0], w); }, {x});
  Tensor loss = gau::sum(gau::add(gau::mul(w, w), inside));
  std::string msg = error_of([&] { loss.backward(); });
  EXPECT_NE(msg.find("params"), std::string::npos) << msg;
}

TEST(GradHook, HookSeesTheAccumulatedGradientAcrossCalls) {
  Tensor w = test::vec64({1.0}).requires_grad_();
  std::vector<double> seen;
  autograd::register_post_accumulate_hook(w, [&](const Tensor& g) { seen.push_back(g.item()); });
  gau::sum(gau::mul(w, 2.0)).backward();
  gau::sum(gau::mul(w, 5.0)).backward();
  EXPECT_EQ(seen, (std::vector<double>{2.0, 7.0}));
}

}  // namespace
}  // namespace gau
