#include "layers/module_gradcheck.h"

#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/copy.h"

namespace gau::layers {

bool module_gradcheck(const Module& m, const std::function<Tensor()>& loss, const GradcheckOptions& opt) {
  const auto params = m.named_parameters();
  for (const auto& [name, p] : params) {
    GAU_CHECK(p.dtype() == DType::f64 && p.is_contiguous() && p.is_cpu(), "module_gradcheck: ", name, " is ",
              describe(p), ": move the module to f64 on the cpu");
    p.set_grad(Tensor());
  }
  loss().backward();
  for (const auto& [name, p] : params) {
    std::vector<double> analytic(static_cast<size_t>(p.numel()), 0.0);  // no gradient: it must be 0
    if (p.grad().defined()) {
      const Tensor g = ops::contiguous(ops::to_dtype(p.grad(), DType::f64));
      analytic.assign(g.data<double>(), g.data<double>() + g.numel());
    }
    double* data = p.data<double>();
    NoGradGuard no_grad;
    for (int64_t i = 0; i < p.numel(); ++i) {
      const double saved = data[i];
      data[i] = saved + opt.eps;
      const double plus = loss().item();
      data[i] = saved - opt.eps;
      const double minus = loss().item();
      data[i] = saved;
      const double numeric = (plus - minus) / (2 * opt.eps), got = analytic[static_cast<size_t>(i)];
      const double err = std::abs(got - numeric);
      GAU_CHECK(err <= opt.atol + opt.rtol * std::abs(numeric), "module_gradcheck: the gradient of ", name, " ",
                describe(p), " at element ", i, ": analytic ", got, ", numeric ", numeric, " (abs error ", err, ")");
    }
  }
  return true;
}

}  // namespace gau::layers
