// Linear and FusedLinear against a naive f64 reference (forward and every gradient), gradcheck,
// the weight gradient written into a flat buffer by the matmul sink, and bad input.
#include "layers/linear.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/flat_parameters.h"
#include "layers/fused_linear.h"
#include "layers/registry.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;

struct Reference {
  std::vector<double> y, d_x, d_w, d_b;
};

// y = x Wᵀ + b with x [rows, in], W [out, in]; loss = sum(y * r).
Reference reference(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
                    const std::vector<double>& r, int64_t rows, int64_t in, int64_t out) {
  Reference ref;
  ref.y.assign(static_cast<size_t>(rows * out), 0.0);
  ref.d_x.assign(static_cast<size_t>(rows * in), 0.0);
  ref.d_w.assign(static_cast<size_t>(out * in), 0.0);
  ref.d_b.assign(static_cast<size_t>(out), 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b.empty() ? 0.0 : b[static_cast<size_t>(o)];
      for (int64_t k = 0; k < in; ++k) acc += x[static_cast<size_t>(i * in + k)] * w[static_cast<size_t>(o * in + k)];
      ref.y[static_cast<size_t>(i * out + o)] = acc;
      const double g = r[static_cast<size_t>(i * out + o)];
      ref.d_b[static_cast<size_t>(o)] += g;
      for (int64_t k = 0; k < in; ++k) {
        ref.d_w[static_cast<size_t>(o * in + k)] += g * x[static_cast<size_t>(i * in + k)];
        ref.d_x[static_cast<size_t>(i * in + k)] += g * w[static_cast<size_t>(o * in + k)];
      }
    }
  return ref;
}

TEST(Linear, MatchesTheReferenceForwardAndGradients) {
  for (bool bias : {true, false}) {
    for (DType dt : {DType::f32, DType::f64}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + (bias ? " bias" : " no bias"));
      Linear lin(9, 5, {.bias = bias});
      lin.to(Device::cpu(), dt);
      const Tensor x = test::randn({2, 3, 9}, dt, 1).requires_grad_();
      const Tensor r = test::randn({2, 3, 5}, dt, 2);
      const Tensor y = lin.forward(x);
      ASSERT_EQ(y.shape(), (Shape{2, 3, 5}));
      gau::sum(gau::mul(y, r)).backward();
      const Reference ref =
          reference(test::values(x), test::values(lin.weight()),
                    bias ? test::values(lin.bias()) : std::vector<double>{}, test::values(r), 6, 9, 5);
      const double tol = test::ref_tol(dt);
      test::expect_close(y, ref.y, tol, "y");
      test::expect_close(x.grad(), ref.d_x, tol, "d_x");
      test::expect_close(lin.weight().grad(), ref.d_w, tol, "d_weight");
      if (bias) test::expect_close(lin.bias().grad(), ref.d_b, tol, "d_bias");
    }
  }
}

TEST(Linear, Gradcheck) {
  Linear lin(4, 3);
  lin.to(Device::cpu(), DType::f64);
  const Tensor x = test::randn64({2, 4}, 3), r = test::randn64({2, 3}, 4);
  EXPECT_TRUE(test::module_gradcheck(lin, [&] { return gau::sum(gau::mul(lin.forward(x), r)); }));
  GAU_EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return lin.forward(in[0]); }, {test::randn64({3, 4}, 5)});
}

TEST(Linear, WeightGradientGoesStraightIntoTheFlatBuffer) {
  // bf16 weights with an f32 gradient buffer: only the matmul sink (beta = 1 GEMM into the
  // buffer) leaves the unrounded f32 product there; a separate bf16 gradient tensor added into
  // the buffer would have been rounded to bf16 first.
  Linear lin(48, 32, {.bias = false});
  lin.to(Device::cpu(), DType::bf16);
  FlatParameters flat(lin, {.grad_dtype = DType::f32});
  const Tensor grad_view = lin.weight().grad();
  const Tensor x = test::randn({4, 16, 48}, DType::bf16, 6);
  const Tensor r = test::randn({4, 16, 32}, DType::bf16, 7);
  gau::sum(gau::mul(lin.forward(x), r)).backward();
  EXPECT_TRUE(lin.weight().grad().same(grad_view)) << "the gradient is no longer the flat buffer's view";
  // d_W = rᵀ x over the flattened batch, in f32 from the same bf16 values.
  const Tensor want = ops::matmul(ops::reshape(ops::to_dtype(r, DType::f32), {64, 32}),
                                  ops::reshape(ops::to_dtype(x, DType::f32), {64, 48}), {true, false, 1.0});
  EXPECT_EQ(test::values(lin.weight().grad()), test::values(want));
  EXPECT_NE(test::values(ops::to_dtype(want, DType::bf16)), test::values(want)) << "test data is bf16-exact";
}

TEST(Linear, BadInputNamesTheLayerAndItsPath) {
  auto lin = build(YAML::Load("{type: linear, in: 64, out: 32}"), "model.blocks[2].proj");
  std::string msg = error_of([&] { lin->forward(ops::zeros({2, 48})); });
  EXPECT_NE(msg.find("Linear 'model.blocks[2].proj': expected an input [..., 64], got f32[2, 48] on cpu"),
            std::string::npos)
      << msg;
  msg = error_of([&] { lin->forward(ops::zeros({2, 64}, DType::f64)); });
  EXPECT_NE(msg.find("does not match the weight"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { Linear bad(0, 3); }).find("must be > 0"), std::string::npos);
  EXPECT_NE(error_of([] {
              build(YAML::Load("{type: linear, in: 0, out: 3}"), "m");
            }).find("m.in (line 1:20): must be >= 1, got 0"),
            std::string::npos);
}

TEST(Linear, InitsFollowTheConfig) {
  auto uniform = std::dynamic_pointer_cast<Linear>(build(YAML::Load("{type: linear, in: 100, out: 300}")));
  double max_abs = 0;
  for (double v : test::values(uniform->weight())) max_abs = std::max(max_abs, std::abs(v));
  EXPECT_LE(max_abs, 0.1) << "U(±1/sqrt(in))";
  EXPECT_GT(max_abs, 0.09);
  auto zeros = std::dynamic_pointer_cast<Linear>(build(YAML::Load("{type: linear, in: 4, out: 3, init: zeros}")));
  for (double v : test::values(zeros->weight())) EXPECT_EQ(v, 0.0);
  for (double v : test::values(zeros->bias())) EXPECT_EQ(v, 0.0);
}

TEST(FusedLinear, OneGemmWithNamedViewsMatchesTheReference) {
  FusedLinear fused(6, {{"u", 4}, {"v", 4}, {"z", 3}});
  fused.to(Device::cpu(), DType::f64);
  EXPECT_EQ(fused.weight().shape(), (Shape{11, 6}));
  const Tensor x = test::randn64({2, 5, 6}, 8).requires_grad_();
  const NamedViews views = fused.forward_views(x);
  ASSERT_EQ(views.names, (std::vector<std::string>{"u", "v", "z"}));
  EXPECT_EQ(views["z"].shape(), (Shape{2, 5, 3}));
  EXPECT_EQ(views["u"].storage(), views["z"].storage()) << "views of one output";
  // Loss over u and z only: v's columns get zero gradient.
  const Tensor ru = test::randn64({2, 5, 4}, 9), rz = test::randn64({2, 5, 3}, 10);
  gau::add(gau::sum(gau::mul(views["u"], ru)), gau::sum(gau::mul(views["z"], rz))).backward();
  std::vector<double> r(2 * 5 * 11, 0.0);
  const std::vector<double> u = test::values(ru), z = test::values(rz);
  for (int64_t i = 0; i < 10; ++i) {
    for (int64_t c = 0; c < 4; ++c) r[static_cast<size_t>(i * 11 + c)] = u[static_cast<size_t>(i * 4 + c)];
    for (int64_t c = 0; c < 3; ++c) r[static_cast<size_t>(i * 11 + 8 + c)] = z[static_cast<size_t>(i * 3 + c)];
  }
  const Reference ref =
      reference(test::values(x), test::values(fused.weight()), test::values(fused.bias()), r, 10, 6, 11);
  std::vector<double> y_u;
  for (int64_t i = 0; i < 10; ++i)
    for (int64_t c = 0; c < 4; ++c) y_u.push_back(ref.y[static_cast<size_t>(i * 11 + c)]);
  test::expect_close(views["u"], y_u, 1e-12, "u");
  test::expect_close(x.grad(), ref.d_x, 1e-12, "d_x");
  test::expect_close(fused.weight().grad(), ref.d_w, 1e-12, "d_weight");
  test::expect_close(fused.bias().grad(), ref.d_b, 1e-12, "d_bias");
  EXPECT_NE(error_of([&] { (void)views["q"]; }).find("the views are: u, v, z"), std::string::npos);
}

TEST(FusedLinear, GradcheckAndBadConfig) {
  FusedLinear fused(3, {{"a", 2}, {"b", 1}});
  fused.to(Device::cpu(), DType::f64);
  const Tensor x = test::randn64({2, 3}, 11);
  const Tensor ra = test::randn64({2, 2}, 12), rb = test::randn64({2, 1}, 13);
  EXPECT_TRUE(test::module_gradcheck(fused, [&] {
    NamedViews v = fused.forward_views(x);
    return gau::add(gau::sum(gau::mul(v["a"], ra)), gau::sum(gau::mul(v["b"], rb)));
  }));
  EXPECT_NE(error_of([] { FusedLinear bad(3, {{"a", 2}, {"a", 1}}); }).find("named twice"), std::string::npos);
  EXPECT_NE(error_of([] {
              build(YAML::Load("{type: fused_linear, in: 3, outputs: {a: 0}}"), "m.w_in");
            }).find("m.w_in.outputs"),
            std::string::npos);
}

}  // namespace
}  // namespace gau::layers
