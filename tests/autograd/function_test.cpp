// Function<T> custom ops (gradcheck, attributes, needs_input_grad, materialised grads, errors,
// re-entrant backward) and gradcheck's own failure reporting.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/reduce.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using autograd::Context;
using test::randn64;
using In = std::vector<Tensor>;

// y = x * exp(w) * scale, x and w [n]; scale is a non-tensor attribute.
struct ScaleExp : autograd::Function<ScaleExp> {
  static constexpr const char* name = "scale_exp";
  static Tensor forward(Context& ctx, const Tensor& x, const Tensor& w, double scale) {
    EXPECT_FALSE(is_grad_enabled());
    Tensor e = ops::mul(ops::exp(w), scale);
    ctx.save_for_backward({x, e});
    ctx.set("scale", scale);
    return ops::mul(x, e);
  }
  static std::vector<Tensor> backward(Context& ctx, const std::vector<Tensor>& d_out) {
    EXPECT_DOUBLE_EQ(ctx.get<double>("scale"), 2.5);
    Tensor x = ctx.saved(0), e = ctx.saved(1);
    Tensor d_x = ctx.needs_input_grad(0) ? ops::mul(d_out[0], e) : Tensor();
    Tensor d_w = ctx.needs_input_grad(1) ? ops::mul(ops::mul(d_out[0], x), e) : Tensor();
    return {d_x, d_w};
  }
};

TEST(Function, CustomOpPassesGradcheck) {
  Tensor x = randn64({5}, 1), w = randn64({5}, 2);
  GAU_EXPECT_GRADCHECK([](const In& in) { return ScaleExp::apply(in[0], in[1], 2.5); }, {x, w});
}

TEST(Function, NeedsInputGradSkipsUnneededInputs) {
  Tensor x = randn64({3}, 3);
  Tensor w = randn64({3}, 4).requires_grad_();
  gau::sum(ScaleExp::apply(x, w, 2.5)).backward();
  EXPECT_TRUE(w.grad().defined());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Function, WithoutGradItRecordsNothing) {
  Tensor y = ScaleExp::apply(randn64({3}, 5), randn64({3}, 6), 2.5);
  EXPECT_FALSE(y.requires_grad());
}

// Two outputs from a vector input: (sum of the inputs, product of the inputs).
struct SumProd : autograd::Function<SumProd> {
  static std::vector<Tensor> forward(Context& ctx, const std::vector<Tensor>& xs) {
    ctx.save_for_backward(xs);
    return {ops::add(xs[0], xs[1]), ops::mul(xs[0], xs[1])};
  }
  static std::vector<Tensor> backward(Context& ctx, const std::vector<Tensor>& d) {
    // Unused outputs arrive as zeros (materialised), so both are always defined here.
    EXPECT_TRUE(d[0].defined() && d[1].defined());
    Tensor a = ctx.saved(0), b = ctx.saved(1);
    return {ops::add(d[0], ops::mul(d[1], b)), ops::add(d[0], ops::mul(d[1], a))};
  }
};

TEST(Function, MultipleOutputsAndVectorArguments) {
  Tensor a = randn64({4}, 7), b = randn64({4}, 8);
  GAU_EXPECT_GRADCHECK([](const In& in) { return SumProd::apply(std::vector<Tensor>{in[0], in[1]}); }, {a, b});
  // Only the second output reaches the loss.
  GAU_EXPECT_GRADCHECK([](const In& in) { return SumProd::apply(std::vector<Tensor>{in[0], in[1]})[1]; }, {a, b});
}

// Returns its input unchanged as the first output; undefined gradients stay undefined.
struct PassThrough : autograd::Function<PassThrough> {
  static std::vector<Tensor> forward(Context& ctx, const Tensor& x) {
    ctx.set_materialize_grads(false);
    return {x, ops::mul(x, 3.0)};
  }
  static std::vector<Tensor> backward(Context&, const std::vector<Tensor>& d) {
    Tensor d_x = d[0];
    if (d[1].defined()) d_x = d_x.defined() ? ops::add(d_x, ops::mul(d[1], 3.0)) : ops::mul(d[1], 3.0);
    return {d_x};
  }
};

TEST(Function, OutputThatIsTheInputAndUnmaterialisedGrads) {
  Tensor x = randn64({3}, 14).requires_grad_();
  std::vector<Tensor> out = PassThrough::apply(x);
  EXPECT_TRUE(x.is_leaf());  // the input keeps its own state; out[0] is a new handle
  EXPECT_FALSE(out[0].is_leaf());
  gau::sum(out[1]).backward();  // out[0] gets no gradient: it arrives undefined
  GAU_EXPECT_CLOSE(x.grad(), ops::full({3}, 3.0, DType::f64), 0, 0);
}

struct WrongCount : autograd::Function<WrongCount> {
  static Tensor forward(Context&, const Tensor& x) { return ops::mul(x, 2.0); }
  static std::vector<Tensor> backward(Context&, const std::vector<Tensor>&) { return {}; }
};

TEST(Function, WrongNumberOfGradientsIsAnErrorNamingTheOp) {
  Tensor x = randn64({2}, 9).requires_grad_();
  try {
    gau::sum(WrongCount::apply(x)).backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("WrongCount"), std::string::npos) << msg;
    EXPECT_NE(msg.find("returned 0 gradients, expected 1"), std::string::npos) << msg;
  }
}

struct WrongShape : autograd::Function<WrongShape> {
  static Tensor forward(Context&, const Tensor& x) { return ops::mul(x, 2.0); }
  static std::vector<Tensor> backward(Context&, const std::vector<Tensor>&) {
    return {ops::zeros({7}, DType::f64)};
  }
};

TEST(Function, WrongGradientShapeIsAnError) {
  Tensor x = randn64({2}, 10).requires_grad_();
  try {
    gau::sum(WrongShape::apply(x)).backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shape [7] for an input of shape [2]"), std::string::npos) << e.what();
  }
}

// Re-entrant: backward runs a backward of its own on a fresh graph.
struct InnerBackward : autograd::Function<InnerBackward> {
  static Tensor forward(Context& ctx, const Tensor& x) {
    ctx.save_for_backward({x});
    return ops::mul(ops::mul(x, x), x);  // x^3
  }
  static std::vector<Tensor> backward(Context& ctx, const std::vector<Tensor>& d) {
    Tensor x = ctx.saved(0).detach().requires_grad_();
    {
      EnableGradGuard grad_on;
      gau::sum(gau::mul(gau::mul(x, x), x)).backward();  // x.grad = 3 x^2
    }
    return {ops::mul(d[0], x.grad())};
  }
};

TEST(Function, BackwardMayRunABackwardOfItsOwn) {
  Tensor x = randn64({4}, 11);
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::exp(InnerBackward::apply(gau::mul(in[0], 0.5))); }, {x});
}

// ---- gradcheck reports mistakes ----

struct BadGradient : autograd::Function<BadGradient> {
  static Tensor forward(Context& ctx, const Tensor& x) {
    ctx.save_for_backward({x});
    return ops::mul(x, x);
  }
  static std::vector<Tensor> backward(Context& ctx, const std::vector<Tensor>& d) {
    return {ops::mul(ops::mul(d[0], ctx.saved(0)), 3.0)};  // should be 2x
  }
};

TEST(Gradcheck, ReportsTheWorstElementWithItsIndexAndErrors) {
  Tensor x = ops::from_vector<double>({1, -2, 3, 0.5}, {2, 2});
  ::testing::AssertionResult r =
      test::gradcheck_ok([](const In& in) { return BadGradient::apply(in[0]); }, {x});
  ASSERT_FALSE(r);
  std::string msg = r.message();
  EXPECT_NE(msg.find("input 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("element"), std::string::npos) << msg;
  EXPECT_NE(msg.find("analytic"), std::string::npos) << msg;
  EXPECT_NE(msg.find("numeric"), std::string::npos) << msg;
  EXPECT_NE(msg.find("abs error"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rel error"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4 of 4"), std::string::npos) << msg;
}

TEST(Gradcheck, ChecksOnlyMarkedInputsWhenSomeAreMarked) {
  // BadGradient's input is not marked: only the correct `y` path is checked.
  Tensor x = randn64({3}, 12);
  Tensor y = randn64({3}, 13).requires_grad_();
  GAU_EXPECT_GRADCHECK([](const In& in) { return gau::add(BadGradient::apply(in[0]), gau::exp(in[1])); }, {x, y});
}

TEST(Parity, AllCloseReportsTheWorstElement) {
  Tensor got = ops::from_vector<double>({1, 2, 3.5, 4}, {2, 2});
  Tensor want = ops::from_vector<double>({1, 2.001, 3, 4}, {2, 2});
  ::testing::AssertionResult r = test::all_close(got, want, 1e-6, 1e-6);
  ASSERT_FALSE(r);
  std::string msg = r.message();
  EXPECT_NE(msg.find("2 of 4 elements differ"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[1, 0]: got 3.5, expected 3"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gau
