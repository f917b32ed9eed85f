#include "tests/support/module_check.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/view.h"
#include "tests/support/parity.h"

namespace gau::test {

::testing::AssertionResult module_gradcheck(const layers::Module& m, const std::function<Tensor()>& loss,
                                            const GradcheckOptions& opt) {
  const auto params = m.named_parameters();
  for (const auto& [name, p] : params) {
    if (p.dtype() != DType::f64 || !p.is_contiguous() || !p.is_cpu())
      return ::testing::AssertionFailure() << name << " is " << describe(p) << ": move the module to f64 on the cpu";
    p.set_grad(Tensor());
  }
  loss().backward();
  for (const auto& [name, p] : params) {
    const std::vector<double> analytic = p.grad().defined() ? values(p.grad()) : std::vector<double>(p.numel(), 0.0);
    double* data = p.data<double>();
    for (int64_t i = 0; i < p.numel(); ++i) {
      const double saved = data[i];
      double plus = 0, minus = 0;
      {
        NoGradGuard no_grad;
        data[i] = saved + opt.eps;
        plus = loss().item();
        data[i] = saved - opt.eps;
        minus = loss().item();
        data[i] = saved;
      }
      const double numeric = (plus - minus) / (2 * opt.eps);
      const double err = std::abs(analytic[static_cast<size_t>(i)] - numeric);
      if (!(err <= opt.atol + opt.rtol * std::abs(numeric)))
        return ::testing::AssertionFailure()
               << "gradient of " << name << " " << describe(p) << " at element " << i << ": analytic "
               << analytic[static_cast<size_t>(i)] << ", numeric " << numeric << " (abs error " << err << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

Tensor parameter(const layers::Module& m, const std::string& name) {
  for (const auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  ADD_FAILURE() << m.where() << " has no parameter '" << name << "'";
  return Tensor();
}

std::shared_ptr<layers::Module> child(const layers::Module& m, const std::string& name) {
  for (const auto& [n, c] : m.named_children())
    if (n == name) return c;
  ADD_FAILURE() << m.where() << " has no child '" << name << "'";
  return nullptr;
}

void set_parameter(const layers::Module& m, const std::string& name, const Tensor& value) {
  Tensor p = parameter(m, name);
  ASSERT_TRUE(p.defined());
  ASSERT_EQ(p.shape(), value.shape()) << name;
  NoGradGuard no_grad;
  ops::copy_(p, value);
}

Tensor decode_in_steps(layers::SequenceBlock& m, const Tensor& x, int64_t step, int64_t max_length) {
  const int64_t n = x.size(1);
  std::unique_ptr<layers::DecodeCache> cache = m.start_decoding(x.size(0), max_length);
  std::vector<Tensor> parts;
  for (int64_t t = 0; t < n; t += step) parts.push_back(m.decode(ops::narrow(x, 1, t, std::min(step, n - t)), *cache));
  EXPECT_EQ(cache->position, n) << m.where();
  return ops::cat(parts, 1);
}

}  // namespace gau::test
