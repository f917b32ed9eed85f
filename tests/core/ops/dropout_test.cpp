// Dropout: the mask is the Philox formula of core/ops/scalar_math.h element by element, the kept
// values are scaled by 1 / (1 - p), the same (seed, offset) gives the same mask, the keep rate is
// about 1 - p, p = 0 is the identity, and bad p is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/ops/dropout.h"
#include "core/ops/factory.h"
#include "core/ops/scalar_math.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::expect_close;
using test::values;
using ::testing::HasSubstr;

std::vector<double> ref_dropout(const std::vector<double>& x, double p, uint64_t seed, uint64_t offset) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = ops::math::dropout_keep(seed, offset, i, static_cast<float>(p)) ? x[i] / (1 - p) : 0;
  return y;
}

}  // namespace

TEST(Dropout, MaskIsThePhiloxFormulaAndScalesTheKept) {
  for (DType dt : test::kFloatTypes)
    for (double p : {0.1, 0.5, 0.9}) {
      Tensor x = test::randn({3, 7, 5}, dt, 1, 0.1);  // no zeros: a dropped element shows as 0
      Tensor y = ops::dropout(x, p, 1234, 77);
      EXPECT_EQ(y.shape(), x.shape());
      EXPECT_EQ(y.dtype(), dt);
      expect_close(y, ref_dropout(values(x), p, 1234, 77), test::ref_tol(dt),
                   std::string("dropout ") + dtype_name(dt) + " p " + std::to_string(p));
    }
}

TEST(Dropout, DeterministicPerSeedAndOffsetAndStridedInputUsesLogicalOrder) {
  Tensor x = test::randn64({64, 33}, 2, 0.1);
  Tensor a = ops::dropout(x, 0.3, 5, 0), b = ops::dropout(x, 0.3, 5, 0);
  EXPECT_TRUE(test::all_close(a, b, 0, 0));
  EXPECT_FALSE(test::all_close(a, ops::dropout(x, 0.3, 6, 0), 0, 0)) << "another seed, another mask";
  EXPECT_FALSE(test::all_close(a, ops::dropout(x, 0.3, 5, 1), 0, 0)) << "another offset, another mask";
  Tensor xt = ops::transpose(test::randn64({33, 64}, 3, 0.1), 0, 1);  // [64, 33], strided
  expect_close(ops::dropout(xt, 0.3, 5, 0), ref_dropout(values(xt), 0.3, 5, 0), 1e-15, "strided");
}

TEST(Dropout, KeepRateIsAboutOneMinusP) {
  // 2^18 elements take the parallel path; the keep rate's standard error is ~1e-3.
  Tensor x = ops::ones({512, 512});
  for (double p : {0.1, 0.5}) {
    std::vector<double> y = values(ops::dropout(x, p, 9, 3));
    double kept = 0;
    for (double v : y) {
      if (v != 0) {
        kept += 1;
        EXPECT_FLOAT_EQ(v, 1 / (1 - p));
      }
    }
    EXPECT_NEAR(kept / static_cast<double>(y.size()), 1 - p, 5e-3) << "p " << p;
  }
}

TEST(Dropout, ZeroPIsTheIdentity) {
  Tensor x = test::randn64({4, 5}, 4);
  EXPECT_TRUE(ops::dropout(x, 0, 1, 2).same(x));
}

TEST(Dropout, BadPIsRefused) {
  Tensor x = ops::zeros({3});
  EXPECT_THAT(error_of([&] { ops::dropout(x, 1, 0, 0); }), HasSubstr("dropout: p must be in [0, 1), got 1"));
  EXPECT_THAT(error_of([&] { ops::dropout(x, -0.1, 0, 0); }), HasSubstr("dropout: p must be in [0, 1), got -0.1"));
  EXPECT_THAT(error_of([&] { ops::dropout(ops::zeros({3}, DType::i64), 0.5, 0, 0); }),
              HasSubstr("dropout: expected a floating x (f32, f64, bf16, f16), got i64[3] on cpu"));
}
