// LayerNorm, RMSNorm and ScaleNorm kernels against naive double references: the forward and its
// statistics directly, the backward against central differences of the reference forward (f64),
// for four dtypes, with and without parameters; the parallel path on large rows; bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/ops/factory.h"
#include "core/ops/norm.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::expect_close;
using test::ref_tol;
using test::values;
using ::testing::HasSubstr;

enum class Kind { layer, rms, scale };
const char* name(Kind k) { return k == Kind::layer ? "layer_norm" : k == Kind::rms ? "rms_norm" : "scale_norm"; }

// The reference of one norm over rows of width d; w and b empty = absent (for scale, w = {g}).
struct Ref {
  std::vector<double> y, mean, rstd;
};
Ref ref_norm(Kind k, const std::vector<double>& x, int64_t d, const std::vector<double>& w,
             const std::vector<double>& b, double eps) {
  const size_t rows = x.size() / d;
  Ref out{std::vector<double>(x.size()), std::vector<double>(rows), std::vector<double>(rows)};
  for (size_t r = 0; r < rows; ++r) {
    const double* xr = &x[r * d];
    double m = 0, sq = 0;
    if (k == Kind::layer) {
      for (int64_t j = 0; j < d; ++j) m += xr[j];
      m /= static_cast<double>(d);
    }
    for (int64_t j = 0; j < d; ++j) sq += (xr[j] - m) * (xr[j] - m);
    double rs = k == Kind::scale ? 1 / std::max(std::sqrt(sq), eps) : 1 / std::sqrt(sq / static_cast<double>(d) + eps);
    out.mean[r] = m, out.rstd[r] = rs;
    for (int64_t j = 0; j < d; ++j) {
      double v = (xr[j] - m) * rs;
      if (k == Kind::scale)
        v *= w[0];
      else if (!w.empty())
        v *= w[j];
      if (!b.empty()) v += b[j];
      out.y[r * d + j] = v;
    }
  }
  return out;
}

// d/dv of L = sum(dy * ref(x, w, b)) by central differences, for v = x (0), w (1) or b (2).
std::vector<double> ref_grad(Kind k, int which, std::vector<double> x, int64_t d, std::vector<double> w,
                             std::vector<double> b, double eps, const std::vector<double>& dy) {
  std::vector<double>& v = which == 0 ? x : which == 1 ? w : b;
  auto loss = [&] {
    std::vector<double> y = ref_norm(k, x, d, w, b, eps).y;
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += dy[i] * y[i];
    return s;
  };
  std::vector<double> g(v.size());
  const double h = 1e-6;
  for (size_t i = 0; i < v.size(); ++i) {
    const double keep = v[i];
    v[i] = keep + h;
    const double up = loss();
    v[i] = keep - h;
    const double down = loss();
    v[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

ops::NormOutput run_forward(Kind k, const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  if (k == Kind::layer) return ops::layer_norm(x, w, b, eps);
  if (k == Kind::rms) return ops::rms_norm(x, w, eps);
  return ops::scale_norm(x, w, eps);
}

ops::NormGrads run_backward(Kind k, const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& b,
                            const ops::NormOutput& f, double eps) {
  if (k == Kind::layer) return ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, true);
  if (k == Kind::rms) return ops::rms_norm_backward(dy, x, w, f.rstd, true);
  return ops::scale_norm_backward(dy, x, w, f.rstd, eps, true);
}

// Bit-for-bit equality (all_close with no tolerance).
void expect_equal(const Tensor& got, const Tensor& want, const std::string& what) {
  EXPECT_TRUE(test::all_close(got, want, 0, 0)) << what;
}

std::vector<double> maybe_values(const Tensor& t) { return t.defined() ? values(t) : std::vector<double>{}; }

}  // namespace

TEST(Norm, ForwardAndBackwardAgainstReference) {
  const Shape shape{3, 4, 7};
  const int64_t d = 7;
  for (DType dt : test::kFloatTypes)
    for (Kind k : {Kind::layer, Kind::rms, Kind::scale})
      for (bool params : {false, true}) {
        if (k == Kind::scale && !params) continue;  // g is required
        const double eps = 1e-5;
        Tensor x = test::randn(shape, dt, 1);
        // Parameters away from zero and one, so that a dropped or doubled factor shows.
        Tensor w, b;
        if (k == Kind::scale)
          w = ops::full({1}, 1.7, dt);
        else if (params)
          w = test::randn({d}, dt, 2, 0.5);
        if (k == Kind::layer && params) b = test::randn({d}, dt, 3);
        Tensor dy = test::randn(shape, dt, 4);
        const std::string what =
            std::string(name(k)) + " " + dtype_name(dt) + (params ? " with parameters" : " without parameters");

        ops::NormOutput f = run_forward(k, x, w, b, eps);
        EXPECT_EQ(f.y.shape(), shape);
        EXPECT_EQ(f.y.dtype(), dt);
        EXPECT_EQ(f.rstd.shape(), Shape({3, 4}));
        EXPECT_EQ(f.rstd.dtype(), dt == DType::f64 ? DType::f64 : DType::f32);
        const std::vector<double> xv = values(x), wv = maybe_values(w), bv = maybe_values(b), dyv = values(dy);
        Ref ref = ref_norm(k, xv, d, wv, bv, eps);
        expect_close(f.y, ref.y, ref_tol(dt), what);
        expect_close(f.rstd, ref.rstd, ref_tol(dt == DType::f64 ? dt : DType::f32), "rstd of " + what);
        if (k == Kind::layer)
          expect_close(f.mean, ref.mean, ref_tol(dt == DType::f64 ? dt : DType::f32), "mean of " + what);
        else
          EXPECT_FALSE(f.mean.defined()) << what;

        ops::NormGrads g = run_backward(k, dy, x, w, b, f, eps);
        // Central differences in f64 carry ~1e-9 of error: the f64 bound is looser than ref_tol.
        const double gtol = dt == DType::f64 ? 1e-7 : 2 * ref_tol(dt);
        expect_close(g.d_x, ref_grad(k, 0, xv, d, wv, bv, eps, dyv), gtol, "d_x of " + what);
        EXPECT_EQ(g.d_weight.defined(), w.defined()) << what;
        EXPECT_EQ(g.d_bias.defined(), b.defined()) << what;
        if (w.defined()) {
          EXPECT_EQ(g.d_weight.shape(), w.shape()) << what;
          EXPECT_EQ(g.d_weight.dtype(), dt) << what;
          // d_weight sums 12 rows: bf16/f16 round a sum of magnitude up to ~10.
          expect_close(g.d_weight, ref_grad(k, 1, xv, d, wv, bv, eps, dyv), 2 * gtol, "d_weight of " + what);
        }
        if (b.defined()) expect_close(g.d_bias, ref_grad(k, 2, xv, d, wv, bv, eps, dyv), 2 * gtol, "d_bias of " + what);
      }
}

TEST(Norm, BackwardWithoutParameterGradients) {
  Tensor x = test::randn64({2, 5}, 5), w = test::randn64({5}, 6), b = test::randn64({5}, 7);
  Tensor dy = test::randn64({2, 5}, 8);
  ops::NormOutput f = ops::layer_norm(x, w, b, 1e-5);
  ops::NormGrads g = ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, false);
  EXPECT_FALSE(g.d_weight.defined());
  EXPECT_FALSE(g.d_bias.defined());
  Tensor full = ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, true).d_x;
  expect_equal(g.d_x, full, "d_x without parameter gradients");
}

TEST(Norm, ScaleNormClampsSmallRows) {
  // Row 0 has norm 5 > eps; row 1 has norm 0.05 < eps = 0.1, so y = g x / eps there.
  Tensor x = ops::from_vector<double>({3, 4, 0.03, 0.04}, {2, 2});
  Tensor g = ops::from_vector<double>({2.0}, {1});
  ops::NormOutput f = ops::scale_norm(x, g, 0.1);
  expect_close(f.y, {2 * 0.6, 2 * 0.8, 2 * 0.3, 2 * 0.4}, 1e-14, "scale_norm clamped");
  expect_close(f.rstd, {0.2, 10}, 1e-14, "scale_norm rstd");
  Tensor dy = ops::from_vector<double>({1, -1, 1, -1}, {2, 2});
  ops::NormGrads d = ops::scale_norm_backward(dy, x, g, f.rstd, 0.1, true);
  const std::vector<double> xv = values(x), dyv = values(dy);
  expect_close(d.d_x, ref_grad(Kind::scale, 0, xv, 2, {2.0}, {}, 0.1, dyv), 1e-7, "scale_norm d_x clamped");
  expect_close(d.d_weight, ref_grad(Kind::scale, 1, xv, 2, {2.0}, {}, 0.1, dyv), 1e-7, "scale_norm d_g clamped");
  // The clamped row is linear: d_x = g d_y / eps exactly.
  EXPECT_NEAR(values(d.d_x)[2], 20.0, 1e-12);
}

TEST(Norm, LargeRowsTakeTheParallelPathAndAgreeWithSmallCalls) {
  // [64, 4096] f32 is past kParallelMin: the backward splits rows across threads and reduces the
  // parameter partials. Its first rows must equal a call on those rows alone (serial path), and
  // d_weight the double sum over rows of d_y xhat.
  const int64_t rows = 64, d = 4096;
  Tensor x = test::randn({rows, d}, DType::f32, 9), w = test::randn({d}, DType::f32, 10, 0.5);
  Tensor b = test::randn({d}, DType::f32, 11), dy = test::randn({rows, d}, DType::f32, 12);
  ops::NormOutput f = ops::layer_norm(x, w, b, 1e-5);
  ops::NormGrads g = ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, true);
  Tensor x4 = ops::slice(x, 0, 0, 4), dy4 = ops::slice(dy, 0, 0, 4);
  ops::NormOutput f4 = ops::layer_norm(x4, w, b, 1e-5);
  ops::NormGrads g4 = ops::layer_norm_backward(dy4, x4, w, b, f4.mean, f4.rstd, true);
  expect_equal(ops::slice(f.y, 0, 0, 4), f4.y, "forward rows 0..3");
  expect_equal(ops::slice(g.d_x, 0, 0, 4), g4.d_x, "d_x rows 0..3");
  const std::vector<double> xv = values(x), dyv = values(dy);
  Ref ref = ref_norm(Kind::layer, xv, d, values(w), values(b), 1e-5);
  std::vector<double> dw(d, 0), db(d, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < d; ++j) {
      dw[j] += dyv[r * d + j] * (xv[r * d + j] - ref.mean[r]) * ref.rstd[r];
      db[j] += dyv[r * d + j];
    }
  expect_close(g.d_weight, dw, 1e-5, "d_weight over 64 rows");
  expect_close(g.d_bias, db, 1e-5, "d_bias over 64 rows");
  // Deterministic: a second call gives the same bits.
  ops::NormGrads again = ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, true);
  expect_equal(again.d_weight, g.d_weight, "d_weight again");
}

TEST(Norm, EmptyRowsGiveZeroParameterGradients) {
  Tensor x = ops::zeros({0, 3}), w = ops::ones({3}), b = ops::zeros({3});
  ops::NormOutput f = ops::layer_norm(x, w, b, 1e-5);
  EXPECT_EQ(f.y.shape(), Shape({0, 3}));
  ops::NormGrads g = ops::layer_norm_backward(x, x, w, b, f.mean, f.rstd, true);
  expect_equal(g.d_weight, ops::zeros({3}), "d_weight of no rows");
  ops::NormGrads s =
      ops::scale_norm_backward(x, x, ops::ones({1}), ops::scale_norm(x, ops::ones({1}), 1e-5).rstd, 1e-5, true);
  expect_equal(s.d_weight, ops::zeros({1}), "d_g of no rows");
}

TEST(Norm, ErrorsNameTheOpShapesAndDtypes) {
  Tensor x = ops::zeros({2, 3});
  EXPECT_THAT(error_of([&] { ops::layer_norm(x, ops::ones({4}), Tensor(), 1e-5); }),
              HasSubstr("layer_norm: weight must be [d] = [3] for x f32[2, 3] on cpu, got f32[4] on cpu"));
  EXPECT_THAT(
      error_of([&] { ops::layer_norm(x, Tensor(), ops::ones({3}, DType::f64), 1e-5); }),
      HasSubstr("layer_norm: bias must have x's dtype and device, got x f32[2, 3] on cpu and bias f64[3] on cpu"));
  EXPECT_THAT(error_of([&] {
                ops::rms_norm(ops::zeros({2, 3}, DType::i32), Tensor(), 1e-5);
              }),
              HasSubstr("rms_norm: expected a floating x (f32, f64, bf16, f16), got i32[2, 3]"));
  EXPECT_THAT(error_of([&] { ops::rms_norm(ops::zeros({}), Tensor(), 1e-5); }),
              HasSubstr("rms_norm: x must have a last dim of width d >= 1"));
  EXPECT_THAT(error_of([&] { ops::rms_norm(x, Tensor(), -1); }),
              HasSubstr("rms_norm: eps must be finite and >= 0, got -1"));
  EXPECT_THAT(error_of([&] { ops::scale_norm(x, ops::ones({3}), 1e-5); }),
              HasSubstr("scale_norm: g must be a scalar ([] or [1]), got f32[3]"));
  EXPECT_THAT(error_of([&] { ops::scale_norm(x, Tensor(), 1e-5); }), HasSubstr("scale_norm: the scale g is required"));
  EXPECT_THAT(error_of([&] { ops::scale_norm(x, ops::ones({1}), 0); }), HasSubstr("scale_norm: eps must be > 0"));
  ops::NormOutput f = ops::rms_norm(x, Tensor(), 1e-5);
  EXPECT_THAT(error_of([&] {
                ops::rms_norm_backward(ops::zeros({3, 2}), x, Tensor(), f.rstd, true);
              }),
              HasSubstr("rms_norm_backward: d_y must match x, got x f32[2, 3] on cpu and d_y f32[3, 2] on cpu"));
  EXPECT_THAT(error_of([&] { ops::rms_norm_backward(x, x, Tensor(), ops::zeros({3}), true); }),
              HasSubstr("rms_norm_backward: rstd must be the forward's f32[2] on cpu, got f32[3] on cpu"));
  EXPECT_THAT(error_of([&] { ops::layer_norm_backward(x, x, Tensor(), Tensor(), Tensor(), f.rstd, true); }),
              HasSubstr("layer_norm_backward: mean must be the forward's f32[2] on cpu, got undefined"));
}
