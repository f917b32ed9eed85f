#pragma once
// Small helpers of the example's tests: random tensors, values on the host, and a gradient check
// of a module's own parameters (gau::gradcheck differentiates the inputs it is given, which never
// include the parameters a layer holds).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
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

// loss() builds a scalar from m's parameters (f64, contiguous, on the CPU). One backward gives each
// parameter's analytic gradient; each element is then nudged by ±eps in place and the central
// difference must match within atol + rtol |numeric|.
inline ::testing::AssertionResult parameters_gradcheck(const gau::layers::Module& m,
                                                       const std::function<gau::Tensor()>& loss, double eps = 1e-6,
                                                       double atol = 1e-6, double rtol = 1e-4) {
  const auto params = m.named_parameters();
  for (const auto& [name, p] : params) {
    if (p.dtype() != gau::DType::f64 || !p.is_contiguous() || !p.is_cpu())
      return ::testing::AssertionFailure() << name << " is " << gau::describe(p) << ", not f64 on the cpu";
    p.set_grad(gau::Tensor());
  }
  loss().backward();
  for (const auto& [name, p] : params) {
    if (!p.grad().defined()) return ::testing::AssertionFailure() << name << " got no gradient";
    const std::vector<double> analytic = values(p.grad());
    double* data = p.data<double>();
    gau::NoGradGuard no_grad;
    for (int64_t i = 0; i < p.numel(); ++i) {
      const double saved = data[i];
      data[i] = saved + eps;
      const double plus = loss().item();
      data[i] = saved - eps;
      const double minus = loss().item();
      data[i] = saved;
      const double numeric = (plus - minus) / (2 * eps), got = analytic[static_cast<size_t>(i)];
      if (!(std::abs(got - numeric) <= atol + rtol * std::abs(numeric)))
        return ::testing::AssertionFailure() << name << " element " << i << ": analytic " << got << ", numeric "
                                             << numeric;
    }
  }
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
