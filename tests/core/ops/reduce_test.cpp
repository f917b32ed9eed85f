// Reductions and scans against naive double-precision references, on contiguous and strided
// inputs, for f32, f64, bf16 and f16.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::expect_close;
using test::ref_tol;
using test::values;

// Flat index into the output for each input element, for reducing `dims` of `shape`.
std::vector<int64_t> out_index(const Shape& shape, const std::vector<int64_t>& dims, int64_t* out_numel) {
  const int64_t rank = shape.size();
  std::vector<bool> red(rank, dims.empty());
  for (int64_t d : dims) red[d < 0 ? d + rank : d] = true;
  std::vector<int64_t> map(shape_numel(shape));
  *out_numel = 1;
  for (int64_t d = 0; d < rank; ++d)
    if (!red[d]) *out_numel *= shape[d];
  for (int64_t i = 0; i < static_cast<int64_t>(map.size()); ++i) {
    int64_t rem = i, o = 0, scale = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      const int64_t idx = rem % shape[d];
      rem /= shape[d];
      if (!red[d]) o += idx * scale, scale *= shape[d];
    }
    map[i] = o;
  }
  return map;
}

enum class Kind { sum, mean, var };

std::vector<double> reference(const Tensor& x, const std::vector<int64_t>& dims, Kind kind, int64_t correction = 1) {
  std::vector<double> v = values(x);
  int64_t n_out = 0;
  std::vector<int64_t> map = out_index(x.shape(), dims, &n_out);
  std::vector<double> s(n_out, 0), cnt(n_out, 0);
  for (size_t i = 0; i < v.size(); ++i) s[map[i]] += v[i], cnt[map[i]] += 1;
  if (kind == Kind::sum) return s;
  for (int64_t j = 0; j < n_out; ++j) s[j] /= cnt[j];
  if (kind == Kind::mean) return s;
  std::vector<double> q(n_out, 0);
  for (size_t i = 0; i < v.size(); ++i) q[map[i]] += (v[i] - s[map[i]]) * (v[i] - s[map[i]]);
  for (int64_t j = 0; j < n_out; ++j) q[j] /= (cnt[j] - correction);
  return q;
}

Shape out_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  const int64_t rank = shape.size();
  std::vector<bool> red(rank, dims.empty());
  for (int64_t d : dims) red[d < 0 ? d + rank : d] = true;
  Shape s;
  for (int64_t d = 0; d < rank; ++d)
    if (!red[d]) s.push_back(shape[d]);
    else if (keepdim) s.push_back(1);
  return s;
}

// A [6, 4, 5] tensor that is a strided, transposed view of a larger one.
Tensor strided(DType dtype, uint64_t seed) {
  Generator gen(seed);
  Tensor base = ops::randn({5, 8, 6}, dtype, Device::cpu(), 0, 1, &gen);
  return ops::transpose(ops::slice(base, 1, 0, 8, 2), 0, 2);
}

Tensor dense(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return ops::randn(shape, dtype, Device::cpu(), 0, 1, &gen);
}

}  // namespace

TEST(Reduce, SumMeanVarOverDimSets) {
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {2}, {0, 2}, {-1, 0}, {1, 2}, {0, 1}};
  for (DType dt : test::kFloatTypes) {
    for (bool contiguous : {true, false}) {
      Tensor x = contiguous ? dense({6, 4, 5}, dt, 1) : strided(dt, 2);
      ASSERT_EQ(x.is_contiguous(), contiguous);
      for (const auto& dims : dim_sets) {
        for (bool keep : {false, true}) {
          std::string what = std::string(dtype_name(dt)) + (contiguous ? " dense" : " strided") + " dims " +
                             shape_str(dims) + (keep ? " keepdim" : "");
          Tensor s = ops::sum(x, dims, keep), m = ops::mean(x, dims, keep);
          Tensor v = ops::var(x, dims, 1, keep), v0 = ops::var(x, dims, 0, keep);
          EXPECT_EQ(s.shape(), out_shape(x.shape(), dims, keep)) << what;
          EXPECT_EQ(s.dtype(), dt);
          expect_close(s, reference(x, dims, Kind::sum), ref_tol(dt), "sum " + what);
          expect_close(m, reference(x, dims, Kind::mean), ref_tol(dt), "mean " + what);
          expect_close(v, reference(x, dims, Kind::var, 1), ref_tol(dt), "var " + what);
          expect_close(v0, reference(x, dims, Kind::var, 0), ref_tol(dt), "var(correction=0) " + what);
        }
      }
    }
  }
}

TEST(Reduce, LongReductionsAreAccurateInF32) {
  // [3, 100000] over dim 1 and [100000, 5] over dim 0 take the chunked path (few outputs).
  for (auto [shape, dim] : std::vector<std::pair<Shape, int64_t>>{{{3, 100000}, 1}, {{100000, 5}, 0}}) {
    Generator gen(3);
    Tensor x = ops::randn(shape, DType::f32, Device::cpu(), 1, 1, &gen);  // mean far from 0 stresses the sums
    expect_close(ops::sum(x, {dim}), reference(x, {dim}, Kind::sum), 1e-6, "long sum");
    expect_close(ops::var(x, {dim}), reference(x, {dim}, Kind::var), 1e-5, "long var");
  }
  Tensor all = dense({300, 400}, DType::f32, 4);
  expect_close(ops::mean(all), reference(all, {}, Kind::mean), 1e-6, "mean of all");
}

TEST(Reduce, MaxArgmaxLogsumexpAlongEachDim) {
  for (DType dt : test::kFloatTypes) {
    for (bool contiguous : {true, false}) {
      Tensor x = contiguous ? dense({6, 4, 5}, dt, 5) : strided(dt, 6);
      std::vector<double> v = values(x);
      const Shape& sh = x.shape();
      for (int64_t dim = 0; dim < 3; ++dim) {
        int64_t n_out = 0;
        std::vector<int64_t> map = out_index(sh, {dim}, &n_out);
        std::vector<double> mx(n_out, -INFINITY), arg(n_out, -1), lse(n_out, 0);
        std::vector<int64_t> seen(n_out, 0);
        for (size_t i = 0; i < v.size(); ++i) {
          const int64_t j = map[i];
          if (v[i] > mx[j]) mx[j] = v[i], arg[j] = seen[j];
          ++seen[j];
        }
        for (size_t i = 0; i < v.size(); ++i) lse[map[i]] += std::exp(v[i] - mx[map[i]]);
        for (int64_t j = 0; j < n_out; ++j) lse[j] = mx[j] + std::log(lse[j]);
        std::string what = std::string(dtype_name(dt)) + " dim " + std::to_string(dim);
        expect_close(ops::max(x, dim), mx, ref_tol(dt), "max " + what);
        Tensor am = ops::argmax(x, dim, true);
        EXPECT_EQ(am.dtype(), DType::i64);
        Shape ks = sh;
        ks[dim] = 1;
        EXPECT_EQ(am.shape(), ks);
        expect_close(am, arg, 1e-12, "argmax " + what);
        expect_close(ops::logsumexp(x, dim - 3), lse, ref_tol(dt), "logsumexp " + what);
      }
    }
  }
}

TEST(Reduce, ArgmaxTiesTakeTheFirstAndNanPropagates) {
  Tensor x = ops::from_vector<float>({1, 3, 3, 0, /**/ 2, NAN, 5, NAN}, {2, 4});
  EXPECT_EQ(values(ops::argmax(x, 1)), (std::vector<double>{1, 1}));
  std::vector<double> m = values(ops::max(x, 1));
  EXPECT_EQ(m[0], 3);
  EXPECT_TRUE(std::isnan(m[1]));
  // logsumexp of a row of -inf is -inf, and huge values do not overflow.
  Tensor y = ops::from_vector<float>({-INFINITY, -INFINITY, 1000, 1000}, {2, 2});
  std::vector<double> l = values(ops::logsumexp(y, 1));
  EXPECT_EQ(l[0], -INFINITY);
  EXPECT_NEAR(l[1], 1000 + std::log(2.0), 1e-3);
}

TEST(Reduce, CumsumInclusiveAndExclusive) {
  for (DType dt : test::kFloatTypes) {
    for (bool contiguous : {true, false}) {
      Tensor x = contiguous ? dense({6, 4, 5}, dt, 7) : strided(dt, 8);
      std::vector<double> v = values(x);
      const Shape& sh = x.shape();
      for (int64_t dim = 0; dim < 3; ++dim) {
        int64_t stride = 1;
        for (int64_t d = dim + 1; d < 3; ++d) stride *= sh[d];
        std::vector<double> inc(v.size()), exc(v.size());
        for (size_t i = 0; i < v.size(); ++i) {
          const int64_t k = (i / stride) % sh[dim];
          exc[i] = k == 0 ? 0 : inc[i - stride];
          inc[i] = exc[i] + v[i];
        }
        std::string what = std::string(dtype_name(dt)) + " dim " + std::to_string(dim);
        expect_close(ops::cumsum(x, dim), inc, ref_tol(dt), "cumsum " + what);
        expect_close(ops::cumsum(x, dim, true), exc, ref_tol(dt), "exclusive cumsum " + what);
      }
    }
  }
}

TEST(Reduce, SumToUndoesBroadcasting) {
  Tensor x = dense({4, 3, 5}, DType::f64, 9);
  std::vector<double> v = values(x);
  auto at = [&](int64_t a, int64_t b, int64_t c) { return v[(a * 3 + b) * 5 + c]; };
  Tensor s = ops::sum_to(x, {3, 1});
  EXPECT_EQ(s.shape(), (Shape{3, 1}));
  std::vector<double> want(3, 0);
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 5; ++c) want[b] += at(a, b, c);
  expect_close(s, want, 1e-12, "sum_to [3, 1]");
  Tensor t = ops::sum_to(x, {5});
  std::vector<double> want5(5, 0);
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 5; ++c) want5[c] += at(a, b, c);
  EXPECT_EQ(t.shape(), (Shape{5}));
  expect_close(t, want5, 1e-12, "sum_to [5]");
  EXPECT_EQ(ops::sum_to(x, {1, 1, 1}).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(ops::sum_to(x, {}).shape(), (Shape{}));
  EXPECT_NEAR(ops::sum_to(x, {}).item(), reference(x, {}, Kind::sum)[0], 1e-12);
  EXPECT_TRUE(ops::sum_to(x, {4, 3, 5}).same(x));
}

TEST(Reduce, ScalarsReduceToThemselves) {
  Tensor x = ops::full({}, 2.5);
  EXPECT_EQ(ops::sum(x).item(), 2.5);
  EXPECT_EQ(ops::mean(x, {0}).item(), 2.5);
  EXPECT_EQ(ops::max(x, 0).item(), 2.5);
  EXPECT_EQ(ops::cumsum(x, 0).item(), 2.5);
}

TEST(Reduce, ErrorsNameTheOpAndShapes) {
  Tensor x = ops::zeros({2, 3});
  std::string e = error_of([&] { ops::sum(x, {2}); });
  EXPECT_NE(e.find("sum: dim 2 is out of range"), std::string::npos) << e;
  EXPECT_NE(e.find("f32[2, 3]"), std::string::npos) << e;
  e = error_of([&] { ops::mean(x, {1, -1}); });
  EXPECT_NE(e.find("mean: dims [1, -1] name the same dim twice"), std::string::npos) << e;
  e = error_of([&] { ops::logsumexp(x, -3); });
  EXPECT_NE(e.find("logsumexp: dim -3 is out of range for f32[2, 3]"), std::string::npos) << e;
  e = error_of([&] { ops::sum(ops::zeros({2}, DType::i64)); });
  EXPECT_NE(e.find("sum: expected a floating tensor"), std::string::npos) << e;
  EXPECT_NE(e.find("i64[2]"), std::string::npos) << e;
  e = error_of([&] { ops::sum_to(x, {4}); });
  EXPECT_NE(e.find("sum_to: shape [4] does not broadcast to f32[2, 3]"), std::string::npos) << e;
  e = error_of([&] { ops::argmax(ops::zeros({2, 0}), 1); });
  EXPECT_NE(e.find("argmax: cannot reduce an empty dim"), std::string::npos) << e;
}
