// GEMM against a naive double-precision product: every trans combination, batch broadcasting,
// alpha/beta, strided operands (passed to BLAS as they are, or copied), and four dtypes.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::expect_close;
using test::ref_tol;
using test::values;

// How an operand is laid out in memory.
enum class Layout { dense, column_major, padded_rows, strided_cols };
const char* layout_name(Layout l) {
  switch (l) {
    case Layout::dense: return "dense";
    case Layout::column_major: return "column-major";
    case Layout::padded_rows: return "padded-rows";
    default: return "strided-cols";
  }
}

// A random tensor of `shape` (rank >= 2) with the given layout of its last two dims.
Tensor make(const Shape& shape, DType dt, Layout layout, uint64_t seed) {
  Generator gen(seed);
  Shape s = shape;
  const int64_t r = s.size();
  switch (layout) {
    case Layout::dense: return ops::randn(s, dt, Device::cpu(), 0, 1, &gen);
    case Layout::column_major: {
      std::swap(s[r - 1], s[r - 2]);
      return ops::transpose(ops::randn(s, dt, Device::cpu(), 0, 1, &gen), -1, -2);
    }
    case Layout::padded_rows: {
      s[r - 1] += 3;
      return ops::narrow(ops::randn(s, dt, Device::cpu(), 0, 1, &gen), -1, 1, shape[r - 1]);
    }
    default: {
      s[r - 1] *= 2;
      return ops::slice(ops::randn(s, dt, Device::cpu(), 0, 1, &gen), -1, 0, s[r - 1], 2);
    }
  }
}

// alpha * op(a) @ op(b) + beta * c0 in double, with numpy batch broadcasting.
std::vector<double> reference(const Tensor& a, const Tensor& b, bool ta, bool tb, double alpha, double beta = 0,
                              const std::vector<double>& c0 = {}) {
  std::vector<double> va = values(a), vb = values(b);
  const int64_t ar = a.dim(), br = b.dim();
  const int64_t m = ta ? a.size(-1) : a.size(-2), k = ta ? a.size(-2) : a.size(-1);
  const int64_t n = tb ? b.size(-2) : b.size(-1);
  Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                 Shape(b.shape().begin(), b.shape().end() - 2), "reference");
  const int64_t nb = batch.size(), count = shape_numel(batch);
  std::vector<double> out(count * m * n);
  for (int64_t bi = 0; bi < count; ++bi) {
    // batch index of each operand (right-aligned, size-1 dims broadcast)
    int64_t rem = bi, ia = 0, ib = 0, sa = 1, sb = 1;
    for (int64_t d = nb - 1; d >= 0; --d) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      const int64_t da = d - (nb - (ar - 2)), db = d - (nb - (br - 2));
      if (da >= 0) ia += (a.size(da) == 1 ? 0 : idx) * sa, sa *= a.size(da);
      if (db >= 0) ib += (b.size(db) == 1 ? 0 : idx) * sb, sb *= b.size(db);
    }
    const double* pa = va.data() + ia * m * k;
    const double* pb = vb.data() + ib * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l) s += (ta ? pa[l * m + i] : pa[i * k + l]) * (tb ? pb[j * k + l] : pb[l * n + j]);
        const int64_t o = (bi * m + i) * n + j;
        out[o] = alpha * s + (beta != 0 ? beta * c0[o] : 0);
      }
  }
  return out;
}

Shape stored(Shape logical, bool trans) {
  if (trans) std::swap(logical[logical.size() - 1], logical[logical.size() - 2]);
  return logical;
}

}  // namespace

TEST(Matmul, AllTransCombinationsLayoutsAndDtypes) {
  const int64_t m = 5, k = 7, n = 3;
  for (DType dt : test::kFloatTypes) {
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (Layout la : {Layout::dense, Layout::column_major, Layout::padded_rows, Layout::strided_cols})
          for (Layout lb : {Layout::dense, Layout::column_major, Layout::strided_cols}) {
            Tensor a = make(stored({m, k}, ta), dt, la, 1), b = make(stored({k, n}, tb), dt, lb, 2);
            ops::MatmulOptions opt{ta, tb, 0.5};
            Tensor c = ops::matmul(a, b, opt);
            std::string what = std::string(dtype_name(dt)) + " trans_a=" + std::to_string(ta) + " trans_b=" +
                               std::to_string(tb) + " a " + layout_name(la) + " b " + layout_name(lb);
            EXPECT_EQ(c.shape(), (Shape{m, n})) << what;
            EXPECT_EQ(c.dtype(), dt);
            expect_close(c, reference(a, b, ta, tb, 0.5), ref_tol(dt), what);
          }
  }
}

TEST(Matmul, BatchBroadcasting) {
  struct Case {
    Shape a, b, out;
  };
  const std::vector<Case> cases = {
      {{2, 1, 5, 7}, {3, 7, 4}, {2, 3, 5, 4}},  // both broadcast
      {{5, 7}, {6, 7, 4}, {6, 5, 4}},           // shared left operand
      {{2, 3, 5, 7}, {7, 4}, {2, 3, 5, 4}},     // shared weight: folded into one GEMM
      {{16, 8, 8}, {16, 8, 8}, {16, 8, 8}},     // many small GEMMs: threaded over the batch
      {{1, 5, 7}, {4, 7, 4}, {4, 5, 4}},
  };
  for (DType dt : {DType::f32, DType::f64, DType::bf16})
    for (const Case& c : cases)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          Tensor a = make(stored(c.a, ta), dt, Layout::dense, 3), b = make(stored(c.b, tb), dt, Layout::dense, 4);
          Tensor out = ops::matmul(a, b, {ta, tb, 1.0});
          std::string what = std::string(dtype_name(dt)) + " a " + shape_str(c.a) + " b " + shape_str(c.b) +
                             " trans " + std::to_string(ta) + std::to_string(tb);
          EXPECT_EQ(out.shape(), c.out) << what;
          expect_close(out, reference(a, b, ta, tb, 1.0), ref_tol(dt), what);
        }
}

TEST(Matmul, FoldedBatchWithStridedRowsAndBatchViews) {
  // A left operand whose batches are not stacked rows (a transposed batch view) and one whose
  // rows are padded: both must still match the reference.
  Tensor base = make({5, 3, 7}, DType::f32, Layout::dense, 5);
  Tensor a = ops::transpose(base, 0, 1);  // [3, 5, 7], batch stride 7, row stride 21
  Tensor w = make({7, 4}, DType::f32, Layout::column_major, 6);
  expect_close(ops::matmul(a, w), reference(a, w, false, false, 1.0), 1e-5, "transposed batch view");
  Tensor p = make({2, 5, 7}, DType::f32, Layout::padded_rows, 7);
  expect_close(ops::matmul(p, w, {false, false, 2.0}), reference(p, w, false, false, 2.0), 1e-5, "padded rows");
}

TEST(Matmul, IntoWithBeta) {
  for (DType dt : test::kFloatTypes) {
    Tensor a = make({2, 6, 5}, dt, Layout::dense, 8), b = make({4, 5}, dt, Layout::column_major, 9);
    Tensor out = make({2, 6, 4}, dt, Layout::dense, 10);
    std::vector<double> c0 = values(out);
    const uint64_t v0 = out.version();
    ops::matmul_into(out, a, b, {false, true, -1.5}, 0.25);
    EXPECT_GT(out.version(), v0);
    expect_close(out, reference(a, b, false, true, -1.5, 0.25, c0), ref_tol(dt), std::string("beta ") + dtype_name(dt));
    // beta = 0 ignores whatever out held, NaN included.
    ops::fill_(out, NAN);
    ops::matmul_into(out, a, b, {false, true, 1.0});
    expect_close(out, reference(a, b, false, true, 1.0), ref_tol(dt), std::string("beta 0 ") + dtype_name(dt));
  }
}

TEST(Matmul, LargerSquareAndEmptyInner) {
  Tensor a = make({130, 257}, DType::f32, Layout::dense, 11), b = make({257, 66}, DType::f32, Layout::dense, 12);
  expect_close(ops::matmul(a, b), reference(a, b, false, false, 1.0), 1e-4, "130x257x66");
  Tensor e = ops::matmul(ops::zeros({3, 0}), ops::zeros({0, 2}));
  EXPECT_EQ(values(e), std::vector<double>(6, 0.0));
  EXPECT_EQ(ops::matmul(ops::zeros({0, 4}), ops::zeros({4, 2})).shape(), (Shape{0, 2}));
}

TEST(Matmul, Bmm) {
  Tensor a = make({3, 4, 5}, DType::f64, Layout::dense, 13), b = make({3, 5, 2}, DType::f64, Layout::dense, 14);
  expect_close(ops::bmm(a, b), reference(a, b, false, false, 1.0), 1e-12, "bmm");
}

TEST(Matmul, ErrorsNameTheOpShapesAndDtypes) {
  std::string e = error_of([] { ops::matmul(ops::zeros({5, 7}), ops::zeros({6, 3})); });
  EXPECT_NE(e.find("matmul: inner dimensions differ: op(a) is [5, 7] and op(b) is [6, 3]"), std::string::npos) << e;
  EXPECT_NE(e.find("f32[5, 7]"), std::string::npos) << e;
  EXPECT_NE(e.find("f32[6, 3]"), std::string::npos) << e;
  e = error_of([] { ops::matmul(ops::zeros({5, 7}), ops::zeros({5, 3}), {true, true, 1.0}); });
  EXPECT_NE(e.find("op(a) is [7, 5] and op(b) is [3, 5]"), std::string::npos) << e;
  EXPECT_NE(e.find("trans_a=true, trans_b=true"), std::string::npos) << e;
  e = error_of([] { ops::matmul(ops::zeros({2, 3}), ops::zeros({3, 2}, DType::f64)); });
  EXPECT_NE(e.find("matmul: dtypes differ: a f32[2, 3] on cpu, b f64[3, 2] on cpu"), std::string::npos) << e;
  e = error_of([] { ops::matmul(ops::zeros({2, 2, 3}), ops::zeros({3, 3, 2})); });
  EXPECT_NE(e.find("matmul"), std::string::npos) << e;
  EXPECT_NE(e.find("[2]"), std::string::npos) << e;
  e = error_of([] { ops::matmul(ops::zeros({3}), ops::zeros({3, 2})); });
  EXPECT_NE(e.find("matmul: expected operands of rank >= 2, got a f32[3]"), std::string::npos) << e;
  e = error_of([] { ops::matmul_into(ops::zeros({2, 3}), ops::zeros({2, 4}), ops::zeros({4, 2})); });
  EXPECT_NE(e.find("matmul_into: out must have the result's shape [2, 2], got f32[2, 3]"), std::string::npos) << e;
  e = error_of([] { ops::bmm(ops::zeros({2, 2, 3}), ops::zeros({3, 3, 2})); });
  EXPECT_NE(e.find("bmm: expected 3-D operands with the same batch"), std::string::npos) << e;
}
