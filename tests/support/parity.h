#pragma once
// Shared test helpers: read tensors on the host, compare them elementwise and run gradcheck,
// reporting the worst element.
//
//   EXPECT_TRUE(gau::test::all_close(got, expected, 1e-5, 1e-4));
//   GAU_EXPECT_CLOSE(got, expected, 1e-5, 1e-4);
//   GAU_EXPECT_GRADCHECK([](const std::vector<gau::Tensor>& in) { return gau::mul(in[0], in[1]); }, {a, b});
//
// A failure prints the shapes, the worst element's index, got, expected, and its abs/rel error.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/tensor.h"

namespace gau::test {

// The floating dtypes every op supports, in the order the tests loop over them.
inline constexpr DType kFloatTypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16};

// A number per floating dtype, such as a tolerance; `other` for the integer and bool dtypes.
//   constexpr test::PerDType tol{.f64 = 1e-12, .f32 = 1e-5, .bf16 = 1e-2, .f16 = 2e-3};  ... tol(dt)
struct PerDType {
  double f64, f32, bf16, f16, other = 0;
  constexpr double operator()(DType dtype) const {
    switch (dtype) {
      case DType::f64:
        return f64;
      case DType::f32:
        return f32;
      case DType::bf16:
        return bf16;
      case DType::f16:
        return f16;
      default:
        return other;
    }
  }
};

// Elements of t (any dtype, any device) in row-major logical order, as doubles. Read through the
// strides on the host (after a copy to the host for a CUDA tensor), so it does not depend on the
// copy, cast or elementwise ops the tests check.
std::vector<double> values(const Tensor& t);

// |got - expected| <= atol + rtol * |expected| for every element (any dtypes and devices, compared
// in f64 on the host; shapes must match; NaN matches only NaN).
::testing::AssertionResult all_close(const Tensor& got, const Tensor& expected, double atol, double rtol);

// gradcheck as an assertion (its error message becomes the failure message).
::testing::AssertionResult gradcheck_ok(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                                        const GradcheckOptions& opt = {});
::testing::AssertionResult gradcheck_ok(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                        const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {});

// Deterministic f64 test data: normal(0, 1) values from a fixed seed (independent of the global
// generator), optionally shifted away from zero by `min_abs` (for kinks such as relu and abs).
Tensor randn64(const Shape& shape, uint64_t seed, double min_abs = 0.0);
// randn64 rounded to `dtype`.
Tensor randn(const Shape& shape, DType dtype, uint64_t seed, double min_abs = 0.0);
// A 1-D f64 tensor holding `v`.
Tensor vec64(const std::vector<double>& v);
// Uniform in [low, high), f64.
Tensor uniform64(const Shape& shape, uint64_t seed, double low, double high);

}  // namespace gau::test

#define GAU_EXPECT_CLOSE(got, expected, atol, rtol) EXPECT_TRUE(::gau::test::all_close((got), (expected), (atol), (rtol)))
#define GAU_EXPECT_GRADCHECK(...) EXPECT_TRUE(::gau::test::gradcheck_ok(__VA_ARGS__))
