#pragma once
// Shared test helpers: compare tensors elementwise and run gradcheck, reporting the worst element.
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
// Uniform in [low, high), f64.
Tensor uniform64(const Shape& shape, uint64_t seed, double low, double high);

}  // namespace gau::test

#define GAU_EXPECT_CLOSE(got, expected, atol, rtol) EXPECT_TRUE(::gau::test::all_close((got), (expected), (atol), (rtol)))
#define GAU_EXPECT_GRADCHECK(...) EXPECT_TRUE(::gau::test::gradcheck_ok(__VA_ARGS__))
