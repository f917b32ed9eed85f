#pragma once
// Shared test helpers for checks against naive double-precision references and for error messages.
//
//   test::expect_close(ops::sum(x, {1}), want, test::ref_tol(dt), "sum f32 dim 1");
//   EXPECT_THAT(test::error_of([&] { ops::add(a, b); }), HasSubstr("f32[4] on cpu"));
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "tests/support/parity.h"

namespace gau::test {

// The gau::Error message f throws, or "" when it returns normally (other exceptions propagate).
std::string error_of(const std::function<void()>& f);

// Every |got - want| <= rtol * (1 + |want|); NaN or infinity in either fails unless the error is
// finite. A failure names `what` and the worst element: index, got, expected.
void expect_close(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                  const std::string& what);
void expect_close(const Tensor& got, const std::vector<double>& want, double rtol, const std::string& what);

// Relative tolerance (for expect_close) of an op computed in acc_t against a double reference:
// bf16 and f16 inputs are exact in the reference, so the error is the f32 arithmetic plus one
// rounding of the output (bf16 keeps 8 significant bits, f16 11).
inline constexpr PerDType ref_tol{.f64 = 1e-12, .f32 = 1e-5, .bf16 = 1e-2, .f16 = 2e-3};

}  // namespace gau::test
