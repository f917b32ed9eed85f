#include "tests/support/checks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "tests/support/parity.h"

namespace gau::test {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::abs(got[i] - want[i]) / (rtol * (1 + std::abs(want[i])));
    if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    if (err > worst) worst = err, at = i;
  }
  EXPECT_LE(worst, 1.0) << what << ": worst element " << at << " got " << got[at] << " expected " << want[at]
                        << " (rtol " << rtol << " of 1 + |expected|)";
}

void expect_close(const Tensor& got, const std::vector<double>& want, double rtol, const std::string& what) {
  expect_close(values(got), want, rtol, what);
}

}  // namespace gau::test
