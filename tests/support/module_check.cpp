#include "tests/support/module_check.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/view.h"
#include "layers/module_gradcheck.h"
#include "tests/support/parity.h"

namespace gau::test {

::testing::AssertionResult module_gradcheck(const layers::Module& m, const std::function<Tensor()>& loss,
                                            const GradcheckOptions& opt) {
  try {
    layers::module_gradcheck(m, loss, opt);
  } catch (const Error& e) {
    return ::testing::AssertionFailure() << e.what();
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
