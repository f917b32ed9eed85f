// softmax / log_softmax and their backward along every dim, against double references and (f64)
// central finite differences; strided inputs; four dtypes.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/softmax.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::expect_close;
using test::values;

// Relative to 1 + |expected|: bf16 keeps 8 significant bits, f16 11.
constexpr test::PerDType tol{.f64 = 1e-12, .f32 = 1e-6, .bf16 = 1e-2, .f16 = 2e-3};

// Calls f(indices of one row along `dim`) for every row of `shape`.
void for_each_row(const Shape& shape, int64_t dim, const std::function<void(const std::vector<int64_t>&)>& f) {
  int64_t inner = 1, outer = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  std::vector<int64_t> row(shape[dim]);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t k = 0; k < shape[dim]; ++k) row[k] = (o * shape[dim] + k) * inner + i;
      f(row);
    }
}

std::vector<double> ref_softmax(const std::vector<double>& x, const Shape& shape, int64_t dim, bool log) {
  std::vector<double> y(x.size());
  for_each_row(shape, dim, [&](const std::vector<int64_t>& r) {
    double m = -INFINITY, s = 0;
    for (int64_t i : r) m = std::max(m, x[i]);
    for (int64_t i : r) s += std::exp(x[i] - m);
    for (int64_t i : r) y[i] = log ? x[i] - m - std::log(s) : std::exp(x[i] - m) / s;
  });
  return y;
}

std::vector<double> ref_backward(const std::vector<double>& y, const std::vector<double>& dy, const Shape& shape,
                                 int64_t dim, bool log) {
  std::vector<double> dx(y.size());
  for_each_row(shape, dim, [&](const std::vector<int64_t>& r) {
    double s = 0;
    for (int64_t i : r) s += log ? dy[i] : dy[i] * y[i];
    for (int64_t i : r) dx[i] = log ? dy[i] - std::exp(y[i]) * s : y[i] * (dy[i] - s);
  });
  return dx;
}

Tensor input(DType dt, bool contiguous, uint64_t seed) {
  Generator gen(seed);
  if (contiguous) return ops::randn({4, 6, 5}, dt, Device::cpu(), 0, 3, &gen);
  Tensor base = ops::randn({5, 12, 4}, dt, Device::cpu(), 0, 3, &gen);
  return ops::transpose(ops::slice(base, 1, 0, 12, 2), 0, 2);  // [4, 6, 5], strided
}

}  // namespace

TEST(Softmax, ForwardAndBackwardAlongEveryDim) {
  for (DType dt : test::kFloatTypes)
    for (bool contiguous : {true, false})
      for (bool log : {false, true})
        for (int64_t dim : {0, 1, 2, -1}) {
          Tensor x = input(dt, contiguous, 1);
          Generator gen(2);
          Tensor dy = ops::randn(x.shape(), dt, Device::cpu(), 0, 1, &gen);
          const int64_t d = dim < 0 ? dim + 3 : dim;
          std::string what = std::string(log ? "log_softmax " : "softmax ") + dtype_name(dt) +
                             (contiguous ? " dense" : " strided") + " dim " + std::to_string(dim);
          Tensor y = log ? ops::log_softmax(x, dim) : ops::softmax(x, dim);
          EXPECT_EQ(y.shape(), x.shape());
          EXPECT_EQ(y.dtype(), dt);
          expect_close(values(y), ref_softmax(values(x), x.shape(), d, log), tol(dt), what);
          Tensor dx = log ? ops::log_softmax_backward(y, dy, dim) : ops::softmax_backward(y, dy, dim);
          // The reference takes the kernel's own (rounded) y, so only the backward's error shows.
          expect_close(values(dx), ref_backward(values(y), values(dy), x.shape(), d, log), 2 * tol(dt),
                       "backward of " + what);
        }
}

TEST(Softmax, BackwardMatchesFiniteDifferences) {
  // d/dx of L = sum(dy * f(x)) by central differences in f64.
  for (bool log : {false, true})
    for (int64_t dim : {0, 1}) {
      Generator gen(3);
      Tensor x = ops::randn({3, 4}, DType::f64, Device::cpu(), 0, 1, &gen);
      Tensor dy = ops::randn({3, 4}, DType::f64, Device::cpu(), 0, 1, &gen);
      std::vector<double> xv = values(x), dyv = values(dy), fd(xv.size());
      auto loss = [&](const std::vector<double>& v) {
        std::vector<double> y = ref_softmax(v, {3, 4}, dim, log);
        double s = 0;
        for (size_t i = 0; i < y.size(); ++i) s += dyv[i] * y[i];
        return s;
      };
      const double h = 1e-6;
      for (size_t i = 0; i < xv.size(); ++i) {
        std::vector<double> p = xv, m = xv;
        p[i] += h, m[i] -= h;
        fd[i] = (loss(p) - loss(m)) / (2 * h);
      }
      Tensor y = log ? ops::log_softmax(x, dim) : ops::softmax(x, dim);
      Tensor dx = log ? ops::log_softmax_backward(y, dy, dim) : ops::softmax_backward(y, dy, dim);
      expect_close(values(dx), fd, 1e-7, std::string(log ? "log_softmax" : "softmax") + " finite differences");
    }
}

TEST(Softmax, StableForHugeLogitsAndLongRows) {
  Tensor x = ops::from_vector<float>({1000, 1001, 1002, -1000, -1001, -1002}, {2, 3});
  std::vector<double> y = values(ops::softmax(x, 1));
  std::vector<double> want = ref_softmax(values(x), {2, 3}, 1, false);
  expect_close(y, want, 1e-6, "huge logits");
  std::vector<double> ly = values(ops::log_softmax(x, 1));
  expect_close(ly, ref_softmax(values(x), {2, 3}, 1, true), 1e-6, "huge logits, log");
  Generator gen(4);
  Tensor big = ops::randn({3, 5000}, DType::f32, Device::cpu(), 0, 4, &gen);
  expect_close(values(ops::softmax(big, -1)), ref_softmax(values(big), {3, 5000}, 1, false), 1e-5, "long rows");
}

TEST(Softmax, ErrorsNameTheOpAndShapes) {
  std::string e = error_of([] { ops::softmax(ops::zeros({2, 3}), 2); });
  EXPECT_NE(e.find("softmax: dim 2 is out of range for f32[2, 3] on cpu"), std::string::npos) << e;
  e = error_of([] { ops::log_softmax(ops::zeros({2, 3}, DType::i32), 1); });
  EXPECT_NE(e.find("log_softmax: expected a floating tensor"), std::string::npos) << e;
  EXPECT_NE(e.find("i32[2, 3]"), std::string::npos) << e;
  e = error_of([] { ops::softmax_backward(ops::zeros({2, 3}), ops::zeros({3, 2}), 1); });
  EXPECT_NE(e.find("softmax_backward: d_y must match y, got y f32[2, 3] on cpu and d_y f32[3, 2] on cpu"),
            std::string::npos)
      << e;
}
