// causal_conv1d: forward against a naive f64 loop of its definition, gradients by gradcheck
// (k < n, k = n, k > n, k = 1), strided inputs, the error messages, and CUDA against CPU.
#include "causal_conv1d.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/device.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "helpers.h"

namespace gau_custom {
namespace {

using gau::DType;
using gau::Tensor;

// y[b,t,c] = sum_j w[j,c] x[b,t-j,c], straight from the definition, in f64.
Tensor naive_causal_conv1d(const Tensor& x, const Tensor& w) {
  const int64_t B = x.size(0), n = x.size(1), c = x.size(2), k = w.size(0);
  const std::vector<double> xv = test::values(x), wv = test::values(w);
  std::vector<double> y(static_cast<size_t>(B * n * c), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < n; ++t)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t j = 0; j < k; ++j)
          if (t - j >= 0) y[(b * n + t) * c + ch] += wv[j * c + ch] * xv[(b * n + t - j) * c + ch];
  return gau::ops::from_vector<double>(y, x.shape());
}

struct Case {
  int64_t b, n, c, k;
};
const Case kCases[] = {{2, 7, 3, 3}, {1, 4, 2, 4}, {2, 3, 5, 6}, {3, 5, 4, 1}, {1, 1, 70, 2}};

std::string name(const Case& s) {
  return "b " + std::to_string(s.b) + ", n " + std::to_string(s.n) + ", c " + std::to_string(s.c) + ", k " +
         std::to_string(s.k);
}

TEST(CausalConv1d, MatchesTheDefinition) {
  for (const Case& s : kCases) {
    for (DType dt : {DType::f64, DType::f32}) {
      SCOPED_TRACE(name(s) + ", " + gau::dtype_name(dt));
      const Tensor x = test::randn({s.b, s.n, s.c}, dt, 1), w = test::randn({s.k, s.c}, dt, 2);
      const Tensor y = causal_conv1d(x, w);
      EXPECT_EQ(y.dtype(), dt);
      EXPECT_TRUE(test::all_close(y, naive_causal_conv1d(x, w), dt == DType::f64 ? 1e-12 : 1e-5, 1e-5));
    }
  }
}

TEST(CausalConv1d, OutputTDependsOnInputsUpToTOnly) {
  // Changing x at position 3 changes y at 3 .. 3 + k - 1 and nothing before.
  const Tensor x = test::randn({1, 8, 2}, DType::f64, 3), w = test::randn({3, 2}, DType::f64, 4);
  Tensor x2 = gau::ops::clone(x);
  gau::ops::fill_(gau::ops::narrow(x2, 1, 3, 1), 5.0);
  const std::vector<double> y = test::values(causal_conv1d(x, w)), y2 = test::values(causal_conv1d(x2, w));
  for (int64_t t = 0; t < 8; ++t)
    for (int64_t ch = 0; ch < 2; ++ch) {
      const bool changed = y[t * 2 + ch] != y2[t * 2 + ch];
      EXPECT_EQ(changed, t >= 3 && t < 6) << "t " << t << ", channel " << ch;
    }
}

TEST(CausalConv1d, Gradcheck) {
  for (const Case& s : kCases) {
    SCOPED_TRACE(name(s));
    const Tensor x = test::randn({s.b, s.n, s.c}, DType::f64, 5), w = test::randn({s.k, s.c}, DType::f64, 6);
    EXPECT_TRUE(gau::gradcheck([](const std::vector<Tensor>& in) { return causal_conv1d(in[0], in[1]); }, {x, w}));
  }
}

TEST(CausalConv1d, StridedInputsGiveTheSameValuesAndGradients) {
  // x as a transposed view and w as a column slice: the op copies them to contiguous arrays.
  const Tensor x_t = test::randn({2, 3, 6}, DType::f64, 7), w_wide = test::randn({4, 6}, DType::f64, 8);
  const Tensor x = gau::ops::transpose(x_t, 1, 2);   // [2, 6, 3], not contiguous
  const Tensor w = gau::ops::narrow(w_wide, 1, 0, 3);  // [4, 3], not contiguous
  ASSERT_FALSE(x.is_contiguous());
  ASSERT_FALSE(w.is_contiguous());
  EXPECT_TRUE(test::all_close(causal_conv1d(x, w), naive_causal_conv1d(x, w), 1e-12, 1e-12));

  Tensor xl = gau::ops::clone(x), wl = gau::ops::clone(w);
  xl.requires_grad_();
  wl.requires_grad_();
  const Tensor r = test::randn({2, 6, 3}, DType::f64, 9);
  gau::sum(gau::mul(causal_conv1d(xl, wl), r)).backward();
  Tensor xs = x.detach(), ws = w.detach();
  xs.requires_grad_();
  ws.requires_grad_();
  gau::sum(gau::mul(causal_conv1d(xs, ws), r)).backward();
  EXPECT_TRUE(test::all_close(xs.grad(), xl.grad(), 1e-12, 1e-12));
  EXPECT_TRUE(test::all_close(ws.grad(), wl.grad(), 1e-12, 1e-12));
}

TEST(CausalConv1d, ErrorsNameTheOpWhatItExpectedAndWhatItGot) {
  const Tensor x = gau::ops::zeros({2, 5, 4}), w = gau::ops::zeros({3, 4});
  std::string msg = test::error_of([&] { causal_conv1d(gau::ops::zeros({5, 4}), w); });
  EXPECT_NE(msg.find("causal_conv1d: expected x [b, n, c], got f32[5, 4] on cpu"), std::string::npos) << msg;
  msg = test::error_of([&] { causal_conv1d(x, gau::ops::zeros({3, 5})); });
  EXPECT_NE(msg.find("causal_conv1d: expected w [k, 4] with k >= 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got f32[3, 5] on cpu"), std::string::npos) << msg;
  msg = test::error_of([&] { causal_conv1d(x, gau::ops::zeros({0, 4})); });
  EXPECT_NE(msg.find("k >= 1"), std::string::npos) << msg;
  msg = test::error_of([&] { causal_conv1d(x, gau::ops::zeros({3, 4}, DType::f64)); });
  EXPECT_NE(msg.find("causal_conv1d: x and w must have one dtype and device, got x f32[2, 5, 4] on cpu and w "
                     "f64[3, 4] on cpu"),
            std::string::npos)
      << msg;
  msg = test::error_of([&] { causal_conv1d(gau::ops::zeros({2, 5, 4}, DType::bf16), gau::ops::zeros({3, 4}, DType::bf16)); });
  EXPECT_NE(msg.find("causal_conv1d: the CPU kernel takes f32 or f64, got x bf16[2, 5, 4] on cpu"), std::string::npos)
      << msg;
}

TEST(CausalConv1d, EmptyBatchGivesEmptyOutputAndZeroWeightGradient) {
  Tensor x = gau::ops::zeros({0, 4, 3}, DType::f64), w = test::randn({2, 3}, DType::f64, 10);
  x.requires_grad_();
  w.requires_grad_();
  const Tensor y = causal_conv1d(x, w);
  EXPECT_EQ(y.shape(), (gau::Shape{0, 4, 3}));
  gau::sum(y).backward();
  EXPECT_TRUE(test::all_close(w.grad(), gau::ops::zeros({2, 3}, DType::f64), 0, 0));
}

TEST(CausalConv1d, CudaMatchesCpu) {
#ifndef GAU_CUSTOM_WITH_CUDA
  GTEST_SKIP() << "libgau_custom was built without its CUDA kernel (gau has no CUDA backend)";
#else
  if (!gau::cuda_available()) GTEST_SKIP() << "no GPU visible";
  // c = 70 leaves a partial 32-channel tile; b n = 222 rows spread unevenly over the row groups.
  for (const Case& s : {Case{3, 74, 70, 4}, Case{2, 3, 33, 5}}) {
    SCOPED_TRACE(name(s));
    const Tensor x = test::randn({s.b, s.n, s.c}, DType::f32, 11), w = test::randn({s.k, s.c}, DType::f32, 12);
    const Tensor r = test::randn({s.b, s.n, s.c}, DType::f32, 13);
    Tensor grads[2][2];  // [cpu, cuda][dx, dw]
    Tensor outputs[2];
    for (int on_gpu = 0; on_gpu < 2; ++on_gpu) {
      const gau::Device dev = on_gpu ? gau::Device::cuda(0) : gau::Device::cpu();
      Tensor xd = gau::ops::to_device(x, dev), wd = gau::ops::to_device(w, dev);
      xd = gau::ops::clone(xd).requires_grad_();
      wd = gau::ops::clone(wd).requires_grad_();
      outputs[on_gpu] = causal_conv1d(xd, wd);
      EXPECT_EQ(outputs[on_gpu].device(), dev);
      gau::sum(gau::mul(outputs[on_gpu], gau::ops::to_device(r, dev))).backward();
      grads[on_gpu][0] = xd.grad();
      grads[on_gpu][1] = wd.grad();
    }
    EXPECT_TRUE(test::all_close(outputs[1], outputs[0], 1e-5, 1e-5));
    EXPECT_TRUE(test::all_close(grads[1][0], grads[0][0], 1e-5, 1e-5));
    EXPECT_TRUE(test::all_close(grads[1][1], grads[0][1], 1e-4, 1e-5));  // dw sums b n products
  }
  const std::string msg = test::error_of([] {
    causal_conv1d(gau::ops::zeros({1, 2, 3}, DType::f64, gau::Device::cuda(0)),
                  gau::ops::zeros({2, 3}, DType::f64, gau::Device::cuda(0)));
  });
  EXPECT_NE(msg.find("causal_conv1d: the CUDA kernel takes f32, got x f64[1, 2, 3] on cuda:0"), std::string::npos)
      << msg;
#endif
}

}  // namespace
}  // namespace gau_custom
