#pragma once
// Small helpers of the example's tests: random tensors, values on the host, closeness, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace gau_custom::test {

inline gau::Tensor randn(const gau::Shape& shape, gau::DType dtype, uint64_t seed) {
  gau::Generator gen(seed);
  return gau::ops::randn(shape, dtype, gau::Device::cpu(), 0, 1, &gen);
}

// Every element of t, in row-major order, as doubles on the host.
inline std::vector<double> values(const gau::Tensor& t) {
  const gau::Tensor h =
      gau::ops::contiguous(gau::ops::to_dtype(gau::ops::to_device(t, gau::Device::cpu()), gau::DType::f64));
  const double* p = h.data<double>();
  return std::vector<double>(p, p + h.numel());
}

// Same shape, and |a - b| <= atol + rtol |b| elementwise; the failure names the first element off.
inline ::testing::AssertionResult all_close(const gau::Tensor& a, const gau::Tensor& b, double atol, double rtol) {
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << gau::describe(a) << " vs " << gau::describe(b);
  const std::vector<double> va = values(a), vb = values(b);
  for (size_t i = 0; i < va.size(); ++i)
    if (!(std::abs(va[i] - vb[i]) <= atol + rtol * std::abs(vb[i])))  // NaN fails too
      return ::testing::AssertionFailure() << "element " << i << " of " << gau::describe(a) << ": " << va[i]
                                           << " vs " << vb[i];
  return ::testing::AssertionSuccess();
}

// The message of the gau::Error that f throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gau::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace gau_custom::test
