// Gradient sinks: backward writes a leaf's gradient straight into its preallocated .grad buffer
// (a view into a flat buffer), bitwise as the old path (fresh gradient, then added), and in the
// buffer's own dtype (an f32 buffer of a bf16 parameter keeps the unrounded value).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/meta.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/matmul.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::error_of;

// Restores the sink mode on scope exit.
struct SinkMode {
  explicit SinkMode(bool on) : prev(autograd::grad_sinks_enabled()) { autograd::set_grad_sinks_enabled(on); }
  ~SinkMode() { autograd::set_grad_sinks_enabled(prev); }
  bool prev;
};

// Views of consecutive ranges of one zeroed flat buffer, installed as the leaves' .grad: what a
// model's flat gradient buffer looks like to autograd.
Tensor install_flat_grads(const std::vector<Tensor>& leaves, DType dtype) {
  int64_t total = 0;
  for (const Tensor& p : leaves) total += p.numel();
  Tensor flat = ops::zeros({total}, dtype);
  int64_t offset = 0;
  for (const Tensor& p : leaves) {
    p.set_grad(Tensor::make_view(flat.storage(), offset, p.shape(), contiguous_strides(p.shape()), dtype));
    offset += p.numel();
  }
  return flat;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  Tensor x = ops::contiguous(a), y = ops::contiguous(b);
  return x.dtype() == y.dtype() && x.shape() == y.shape() && std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

struct Case {
  const char* name;
  Shape x, w;
  bool trans_a, trans_b, weight_first;
};

// loss = sum(matmul(x, w) * r) or sum(matmul(w, x) * r), both operands leaves with flat buffers.
std::vector<Tensor> grads_of(const Case& c, bool sinks, int backwards) {
  SinkMode mode(sinks);
  Tensor x = test::randn(c.x, DType::f32, 1).requires_grad_();
  Tensor w = test::randn(c.w, DType::f32, 2).requires_grad_();
  Tensor flat = install_flat_grads({x, w}, DType::f32);
  ops::MatmulOptions opt;
  opt.trans_a = c.trans_a;
  opt.trans_b = c.trans_b;
  opt.alpha = 0.75;
  for (int i = 0; i < backwards; ++i) {
    Tensor y = c.weight_first ? gau::matmul(w, x, opt) : gau::matmul(x, w, opt);
    Tensor r = test::randn(y.shape(), DType::f32, 3 + i);
    gau::sum(gau::mul(y, r)).backward();
  }
  EXPECT_EQ(x.grad().storage(), flat.storage()) << c.name << ": x.grad is no longer the flat buffer's view";
  EXPECT_EQ(w.grad().storage(), flat.storage()) << c.name << ": w.grad is no longer the flat buffer's view";
  return {ops::clone(x.grad()), ops::clone(w.grad())};
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"2-D x [33, 70] @ w [70, 24]", {33, 70}, {70, 24}, false, false, false},
      {"shared weight x [3, 5, 16] @ w [16, 24]", {3, 5, 16}, {16, 24}, false, false, false},
      {"shared weight, w transposed: x [2, 7, 16] @ w^T, w [24, 16]", {2, 7, 16}, {24, 16}, false, true, false},
      {"batched x [4, 6, 9] @ w [4, 9, 5]", {4, 6, 9}, {4, 9, 5}, false, false, false},
      {"x^T: x [9, 6] (op [6, 9]) @ w [9, 5]", {9, 6}, {9, 5}, true, false, false},
      {"weight first: w [12, 30] @ x [30, 7]", {30, 7}, {12, 30}, false, false, true},
      {"broadcast batch: x [3, 4, 8] @ w [1, 8, 5]", {3, 4, 8}, {1, 8, 5}, false, false, false},
  };
  return all;
}

TEST(GradSink, MatmulGradientsAreBitwiseThoseOfTheFreshGemmPath) {
  for (const Case& c : cases()) {
    std::vector<Tensor> with = grads_of(c, true, 1), without = grads_of(c, false, 1);
    EXPECT_TRUE(bitwise_equal(with[0], without[0])) << c.name << ": d_x differs";
    EXPECT_TRUE(bitwise_equal(with[1], without[1])) << c.name << ": d_w differs";
  }
}

TEST(GradSink, AccumulatesAcrossBackwardCalls) {
  // Three backwards into the same buffers: beta = 1 adds in a different order than a fresh GEMM
  // plus an add, so this is close, not bitwise.
  for (const Case& c : cases()) {
    std::vector<Tensor> with = grads_of(c, true, 3), without = grads_of(c, false, 3);
    test::expect_close(with[0], test::values(without[0]), 1e-5, std::string(c.name) + " d_x");
    test::expect_close(with[1], test::values(without[1]), 1e-5, std::string(c.name) + " d_w");
  }
}

TEST(GradSink, MatmulGradientLandsInTheBufferInPlace) {
  // The buffer is written in place (its version moves) and holds x^T 1. That the sink, not the
  // engine's add, wrote it is shown by the bf16 test below (only the sink keeps f32 values).
  Tensor x = test::randn({5, 4}, DType::f32, 1);
  Tensor w = test::randn({4, 3}, DType::f32, 2).requires_grad_();
  Tensor flat = install_flat_grads({w}, DType::f32);
  const uint64_t version = flat.version();
  gau::sum(gau::matmul(x, w)).backward();
  EXPECT_GT(flat.version(), version) << "the buffer was not written in place";
  // d_w = x^T 1
  Tensor want = ops::matmul(x, ops::ones({5, 3}), {true, false, 1.0});
  EXPECT_TRUE(bitwise_equal(w.grad(), want));
}

TEST(GradSink, Bf16ParameterF32BufferKeepsTheUnroundedValue) {
  Tensor x = test::randn({64, 48}, DType::bf16, 1);
  Tensor w = test::randn({48, 32}, DType::bf16, 2).requires_grad_();
  Tensor flat = install_flat_grads({w}, DType::f32);
  Tensor r = test::randn({64, 32}, DType::bf16, 3);
  gau::sum(gau::mul(gau::matmul(x, w), r)).backward();
  ASSERT_EQ(w.grad().dtype(), DType::f32);
  // The reference: the same f32 GEMM on the same (bf16) values, unrounded.
  Tensor want = ops::matmul(ops::to_dtype(x, DType::f32), ops::to_dtype(r, DType::f32), {true, false, 1.0});
  EXPECT_TRUE(bitwise_equal(w.grad(), want)) << "the f32 buffer does not hold the f32 GEMM's value";
  // And that value is not what a bf16 round trip gives: the buffer saw no rounding.
  Tensor rounded = ops::to_dtype(ops::to_dtype(want, DType::bf16), DType::f32);
  EXPECT_FALSE(bitwise_equal(want, rounded)) << "test data too coarse: every value is bf16-exact";
}

TEST(GradSink, CastLeafGetsItsGradientInTheBufferDtype) {
  // A bf16 leaf cast up to f32 for the computation: the cast's backward hands the f32 gradient
  // back as it is, and the engine adds it into the f32 buffer without rounding it to bf16 first.
  Tensor w = test::randn({16}, DType::bf16, 4).requires_grad_();
  install_flat_grads({w}, DType::f32);
  Tensor s = test::randn({16}, DType::f32, 5);
  gau::sum(gau::mul(gau::to_dtype(w, DType::f32), s)).backward();
  test::expect_close(w.grad(), test::values(s), 1e-15, "d_w = s, unrounded");
}

// A custom op that writes its weight's gradient into the sink when there is one.
struct ScaleBy : autograd::Function<ScaleBy> {
  static constexpr const char* name = "ScaleBy";
  static Tensor forward(autograd::Context& ctx, const Tensor& x, const Tensor& w) {
    ctx.save_for_backward({x, w});
    return ops::mul(x, w);
  }
  static std::vector<Tensor> backward(autograd::Context& ctx, const std::vector<Tensor>& d) {
    Tensor x = ctx.saved(0), w = ctx.saved(1);
    Tensor d_w = ops::mul(d[0], x);
    Tensor sink = ctx.grad_sink(1);
    sinks_seen.push_back(sink.defined());
    if (sink.defined()) {
      ops::binary_(ops::Binary::add, sink, d_w);
      ctx.used_grad_sink(1);
      d_w = return_both ? d_w : Tensor();
    }
    return {ops::mul(d[0], w), d_w};
  }
  static inline std::vector<bool> sinks_seen;
  static inline bool return_both = false;
};

TEST(GradSink, AnyOpCanUseTheSinkAndItsHookStillFires) {
  ScaleBy::sinks_seen.clear();
  Tensor x = test::randn({6}, DType::f64, 1).requires_grad_();
  Tensor w = test::randn({6}, DType::f64, 2).requires_grad_();
  int hook_calls = 0;
  autograd::register_post_accumulate_hook(w, [&](const Tensor&) { ++hook_calls; });
  gau::sum(ScaleBy::apply(x, w)).backward();  // no buffer yet: the gradient is returned
  install_flat_grads({w}, DType::f64);
  gau::sum(ScaleBy::apply(x, w)).backward();  // now it goes into the buffer
  EXPECT_EQ(ScaleBy::sinks_seen, (std::vector<bool>{false, true}));
  EXPECT_EQ(hook_calls, 2);
  test::expect_close(w.grad(), test::values(x), 1e-15, "d_w = x");
  {
    SinkMode off(false);
    gau::sum(ScaleBy::apply(x, w)).backward();
  }
  EXPECT_EQ(ScaleBy::sinks_seen.back(), false) << "set_grad_sinks_enabled(false) still offered a sink";
}

TEST(GradSink, UsingTheSinkAndReturningTheGradientIsAnError) {
  Tensor x = test::randn({3}, DType::f64, 1);
  Tensor w = test::randn({3}, DType::f64, 2).requires_grad_();
  install_flat_grads({w}, DType::f64);
  ScaleBy::return_both = true;
  std::string msg = error_of([&] { gau::sum(ScaleBy::apply(x, w)).backward(); });
  ScaleBy::return_both = false;
  EXPECT_NE(msg.find("ScaleBy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("grad_sink"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gau
