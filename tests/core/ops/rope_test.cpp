// RoPE: the table against cos/sin in double, the rotation against a naive double reference (full
// and partial rotary, position offsets, strided input), the backward as the inverse rotation, and
// bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/factory.h"
#include "core/ops/rope.h"
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

// x [outer, n, s] flattened; rotate_half pairs (i, i + r/2) at position offset + t.
std::vector<double> ref_rope(const std::vector<double>& x, int64_t n, int64_t s, int64_t r, int64_t offset, double base,
                             bool inverse) {
  std::vector<double> y = x;
  const int64_t h = r / 2;
  for (size_t row = 0; row < x.size() / s; ++row) {
    const double p = static_cast<double>(offset + static_cast<int64_t>(row) % n);
    for (int64_t i = 0; i < h; ++i) {
      const double a = (inverse ? -p : p) * std::pow(base, -2.0 * i / r);
      const double x1 = x[row * s + i], x2 = x[row * s + h + i];
      y[row * s + i] = x1 * std::cos(a) - x2 * std::sin(a);
      y[row * s + h + i] = x2 * std::cos(a) + x1 * std::sin(a);
    }
  }
  return y;
}

}  // namespace

TEST(Rope, TableHoldsCosThenSinPerPosition) {
  Tensor t = ops::rope_table(5, 4, 100, DType::f64);
  EXPECT_EQ(t.shape(), Shape({5, 4}));
  std::vector<double> v = values(t), want;
  for (int p = 0; p < 5; ++p)
    for (int part = 0; part < 2; ++part)
      for (int i = 0; i < 2; ++i) {
        const double a = p * std::pow(100.0, -2.0 * i / 4);
        want.push_back(part == 0 ? std::cos(a) : std::sin(a));
      }
  expect_close(v, want, 1e-15, "rope table");
  EXPECT_EQ(ops::rope_table(3, 8).dtype(), DType::f32);
}

TEST(Rope, RotationAgainstReference) {
  struct Case {
    Shape shape;
    int64_t rot, offset;
  };
  for (const Case& c :
       {Case{{2, 5, 8}, 8, 0}, Case{{2, 3, 5, 12}, 8, 0}, Case{{3, 4, 6}, 6, 7}, Case{{1, 1, 16}, 16, 40}})
    for (DType dt : test::kFloatTypes)
      for (DType table_dt : {DType::f32, DType::f64}) {
        const int64_t n = c.shape[c.shape.size() - 2], s = c.shape.back();
        Tensor table = ops::rope_table(64, c.rot, 10000, table_dt);
        Tensor x = test::randn(c.shape, dt, 1), dy = test::randn(c.shape, dt, 2);
        const std::string what = std::string(dtype_name(dt)) + " table " + dtype_name(table_dt) + " " +
                                 shape_str(c.shape) + " rot " + std::to_string(c.rot) + " offset " +
                                 std::to_string(c.offset);
        // An f32 table carries ~1e-7 of rounding into every product.
        const double tol = std::max(ref_tol(dt), table_dt == DType::f32 ? 1e-6 : 0.0);
        Tensor y = ops::rope(x, table, c.offset);
        EXPECT_EQ(y.shape(), c.shape);
        EXPECT_EQ(y.dtype(), dt);
        expect_close(y, ref_rope(values(x), n, s, c.rot, c.offset, 10000, false), tol, what);
        expect_close(ops::rope_backward(dy, table, c.offset), ref_rope(values(dy), n, s, c.rot, c.offset, 10000, true),
                     tol, "backward of " + what);
      }
}

TEST(Rope, StridedInputAndInverse) {
  Tensor table = ops::rope_table(16, 6, 10000, DType::f64);
  Tensor base = test::randn64({6, 4, 3}, 3);
  Tensor x = ops::transpose(base, 0, 2);  // [3, 4, 6], strided
  Tensor y = ops::rope(x, table, 2);
  expect_close(y, ref_rope(values(x), 4, 6, 6, 2, 10000, false), 1e-12, "strided");
  // A rotation is orthogonal: its backward undoes it.
  expect_close(ops::rope_backward(y, table, 2), values(x), 1e-12, "inverse");
}

TEST(Rope, IncrementalPositionsMatchTheFullSequence) {
  // Token t of a full pass equals the single-token call at position_offset t.
  Tensor table = ops::rope_table(8, 4);
  Tensor x = test::randn({2, 6, 4}, DType::f32, 4);
  Tensor full = ops::rope(x, table);
  for (int64_t t = 0; t < 6; ++t) {
    Tensor one = ops::rope(ops::slice(x, 1, t, t + 1), table, t);
    EXPECT_TRUE(test::all_close(one, ops::slice(full, 1, t, t + 1), 0, 0)) << "token " << t;
  }
}

TEST(Rope, ErrorsNameTheWidthAndPositions) {
  Tensor table = ops::rope_table(8, 4);
  EXPECT_THAT(error_of([&] {
                ops::rope(ops::zeros({2, 3, 5}), table);
              }),
              HasSubstr("rope: the rotated width s (last dim of x) must be even, got s = 5 in f32[2, 3, 5] on cpu"));
  EXPECT_THAT(error_of([&] {
                ops::rope(ops::zeros({2, 3, 2}), table);
              }),
              HasSubstr("rope: the table's rot_dim 4 must be even and at most x's width s = 2"));
  EXPECT_THAT(
      error_of([&] {
        ops::rope(ops::zeros({2, 3, 4}), table, 6);
      }),
      HasSubstr("rope: positions 6 .. 8 of x f32[2, 3, 4] on cpu need a table of at least 9 rows, got f32[8, 4]"));
  EXPECT_THAT(error_of([&] { ops::rope(ops::zeros({4}), table); }), HasSubstr("rope: x must be [..., n, s]"));
  EXPECT_THAT(error_of([&] {
                ops::rope_backward(ops::zeros({2, 4}), ops::zeros({8, 4}, DType::bf16));
              }),
              HasSubstr("rope_backward: table must be an f32 or f64 [n_max, rot_dim]"));
  EXPECT_THAT(error_of([] { ops::rope_table(8, 7); }),
              HasSubstr("rope_table: rot_dim must be even and > 0 (features are rotated in pairs), got 7"));
  EXPECT_THAT(error_of([] { ops::rope_table(8, 4, -1); }), HasSubstr("rope_table: base must be finite and > 0"));
}
