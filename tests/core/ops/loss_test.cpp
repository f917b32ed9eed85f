// Cross-entropy (ignore_index, label smoothing) against a naive double reference, and its
// backward against central finite differences of that reference.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/loss.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::expect_close;
using test::values;

// PyTorch: F.cross_entropy(x, t, ignore_index=ignore, label_smoothing=eps), mean reduction.
double ref_loss(const std::vector<double>& x, const std::vector<int64_t>& t, int64_t C, int64_t ignore, double eps,
                std::vector<double>* lse_out = nullptr) {
  const int64_t N = t.size();
  double total = 0;
  int64_t count = 0;
  for (int64_t i = 0; i < N; ++i) {
    double m = -INFINITY, s = 0, mean = 0;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, x[i * C + c]);
    for (int64_t c = 0; c < C; ++c) s += std::exp(x[i * C + c] - m), mean += x[i * C + c] / C;
    const double lse = m + std::log(s);
    if (lse_out) lse_out->push_back(lse);
    if (t[i] == ignore) continue;
    total += (1 - eps) * (lse - x[i * C + t[i]]) + eps * (lse - mean);
    ++count;
  }
  return count ? total / count : 0.0;
}

Tensor targets_tensor(const std::vector<int64_t>& t, DType dt) {
  return ops::to_dtype(ops::from_vector<int64_t>(t, {static_cast<int64_t>(t.size())}), dt);
}

struct Case {
  int64_t ignore;
  double eps;
};
const std::vector<Case> kCases = {{-100, 0.0}, {-100, 0.1}, {2, 0.0}, {2, 0.25}};
const std::vector<int64_t> kTargets = {1, -100, 4, 2, 0, 2, -100, 3};  // N = 8, C = 5

// Logits [8, 5]: dense, rows spaced in a wider buffer, or transposed (copied by the op).
Tensor logits(DType dt, int layout, uint64_t seed) {
  Generator gen(seed);
  if (layout == 0) return ops::randn({8, 5}, dt, Device::cpu(), 0, 2, &gen);
  if (layout == 1) return ops::narrow(ops::randn({8, 9}, dt, Device::cpu(), 0, 2, &gen), 1, 2, 5);
  return ops::transpose(ops::randn({5, 8}, dt, Device::cpu(), 0, 2, &gen), 0, 1);
}

}  // namespace

TEST(CrossEntropy, ForwardMatchesReference) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16})
    for (int layout : {0, 1, 2})
      for (const Case& c : kCases) {
        Tensor x = logits(dt, layout, 1);
        // Targets equal to a non-matching ignore_index must be valid classes.
        std::vector<int64_t> t = kTargets;
        for (int64_t& v : t)
          if (v == -100 && c.ignore != -100) v = 1;
        ops::CrossEntropyOptions opt{c.ignore, c.eps};
        auto r = ops::cross_entropy(x, targets_tensor(t, DType::i64), opt);
        std::vector<double> lse;
        const double want = ref_loss(values(x), t, 5, c.ignore, c.eps, &lse);
        std::string what = std::string(dtype_name(dt)) + " layout " + std::to_string(layout) + " ignore " +
                           std::to_string(c.ignore) + " eps " + std::to_string(c.eps);
        EXPECT_EQ(r.loss.dtype(), dt == DType::f64 ? DType::f64 : DType::f32) << what;
        EXPECT_EQ(r.loss.dim(), 0) << what;
        int64_t count = 0;
        for (int64_t v : t) count += v != c.ignore;
        EXPECT_EQ(r.count, count) << what;
        // bf16/f16 logits are exact in the reference; the kernel computes in f32.
        const double rtol = dt == DType::f64 ? 1e-12 : 1e-6;
        expect_close({r.loss.item()}, {want}, rtol, "loss " + what);
        expect_close(values(r.lse), lse, rtol, "lse " + what);
      }
}

TEST(CrossEntropy, BackwardMatchesFiniteDifferences) {
  const double d_loss = 0.7;
  for (const Case& c : kCases)
    for (int layout : {0, 1, 2}) {
      Tensor x = logits(DType::f64, layout, 2);
      std::vector<int64_t> t = kTargets;
      for (int64_t& v : t)
        if (v == -100 && c.ignore != -100) v = 1;
      ops::CrossEntropyOptions opt{c.ignore, c.eps};
      Tensor tt = targets_tensor(t, DType::i32);
      auto r = ops::cross_entropy(x, tt, opt);
      Tensor dx = ops::cross_entropy_backward(x, tt, r.lse, r.count, d_loss, opt);
      EXPECT_EQ(dx.shape(), (Shape{8, 5}));
      std::vector<double> xv = values(x), fd(xv.size());
      const double h = 1e-6;
      for (size_t i = 0; i < xv.size(); ++i) {
        std::vector<double> p = xv, m = xv;
        p[i] += h, m[i] -= h;
        fd[i] = d_loss * (ref_loss(p, t, 5, c.ignore, c.eps) - ref_loss(m, t, 5, c.ignore, c.eps)) / (2 * h);
      }
      expect_close(values(dx), fd, 1e-7,
                   "d_logits layout " + std::to_string(layout) + " ignore " + std::to_string(c.ignore) + " eps " +
                       std::to_string(c.eps));
    }
}

TEST(CrossEntropy, BackwardInLowPrecisionMatchesF64) {
  for (DType dt : {DType::f32, DType::bf16}) {
    Tensor x = logits(dt, 0, 3);
    Tensor x64 = ops::to_dtype(x, DType::f64);
    Tensor tt = targets_tensor(kTargets, DType::i64);
    ops::CrossEntropyOptions opt{-100, 0.1};
    auto r = ops::cross_entropy(x, tt, opt);
    auto r64 = ops::cross_entropy(x64, tt, opt);
    Tensor dx = ops::cross_entropy_backward(x, tt, r.lse, r.count, 1.0, opt);
    EXPECT_EQ(dx.dtype(), dt);
    // bf16 output rounding: rel 2^-8 of values below 1/count.
    expect_close(values(dx), values(ops::cross_entropy_backward(x64, tt, r64.lse, r64.count, 1.0, opt)),
                 dt == DType::bf16 ? 4e-3 : 1e-6, std::string("d_logits ") + dtype_name(dt));
  }
}

TEST(CrossEntropy, AllRowsIgnoredGivesZero) {
  Tensor x = logits(DType::f32, 0, 4);
  Tensor tt = targets_tensor(std::vector<int64_t>(8, -100), DType::i64);
  auto r = ops::cross_entropy(x, tt);
  EXPECT_EQ(r.count, 0);
  EXPECT_EQ(r.loss.item(), 0.0);
  EXPECT_EQ(values(ops::cross_entropy_backward(x, tt, r.lse, r.count, 1.0)), std::vector<double>(40, 0.0));
}

TEST(CrossEntropy, HugeLogitsStayFinite) {
  Tensor x = ops::from_vector<float>({1000, 0, -1000, 500, 500, 500}, {2, 3});
  auto r = ops::cross_entropy(x, targets_tensor({0, 2}, DType::i64));
  EXPECT_NEAR(r.loss.item(), (0.0 + std::log(3.0)) / 2, 1e-5);
}

TEST(CrossEntropy, ErrorsNameTheOpRowAndShapes) {
  Tensor x = ops::zeros({3, 4});
  std::string e = error_of([&] { ops::cross_entropy(x, targets_tensor({0, 4, 1}, DType::i64)); });
  EXPECT_NE(e.find("cross_entropy: target 4 at row 1 is out of range [0, 4) and is not ignore_index -100"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("f32[3, 4]"), std::string::npos) << e;
  e = error_of([&] { ops::cross_entropy(x, targets_tensor({0, 1}, DType::i64)); });
  EXPECT_NE(e.find("cross_entropy: targets must be [N] = [3], got i64[2] on cpu for logits f32[3, 4] on cpu"),
            std::string::npos)
      << e;
  e = error_of([&] { ops::cross_entropy(x, ops::zeros({3})); });
  EXPECT_NE(e.find("cross_entropy: targets must be i32 or i64, got f32[3]"), std::string::npos) << e;
  e = error_of([&] { ops::cross_entropy(x, targets_tensor({0, 1, 2}, DType::i64), {-100, 1.5}); });
  EXPECT_NE(e.find("label_smoothing must be in [0, 1], got 1.5"), std::string::npos) << e;
  e = error_of([&] { ops::cross_entropy_backward(x, targets_tensor({0, 1, 2}, DType::i64), ops::zeros({2}), 3, 1.0); });
  EXPECT_NE(e.find("cross_entropy_backward: lse must be the forward's floating [N] = [3] tensor, got f32[2]"),
            std::string::npos)
      << e;
}
