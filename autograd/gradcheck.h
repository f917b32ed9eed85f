#pragma once
// gradcheck: analytic gradients (backward) against f64 central differences.
//
//   gau::gradcheck([](const std::vector<Tensor>& in) { return gau::mul(in[0], in[1]); }, {a, b});
//
// Every floating input is copied to a contiguous f64 leaf. Which inputs are checked: those with
// requires_grad set, or all floating inputs when none has it set. Integer/bool inputs (indices,
// masks) are passed through unchanged. fn's outputs are reduced to a scalar L = sum_k <w_k, y_k>
// with fixed pseudo-random weights w_k, so one backward gives dL/dx; each element of each checked
// input is then perturbed by +-eps and (L(x + eps) - L(x - eps)) / (2 eps) must match it within
// |analytic - numeric| <= atol + rtol * |numeric|.
//
// On failure it throws gau::Error naming the input index and shape, the element (flat index and
// coordinates), the analytic and numeric values and the absolute and relative errors. fn should be
// smooth at the inputs given (keep away from relu's kink, ties of max, ...).
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace gau {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

using GradcheckFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

// Returns true; throws gau::Error with the worst mismatch otherwise.
bool gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {});
bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& opt = {});
inline bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                      double eps, double atol = 1e-5, double rtol = 1e-3) {
  return gradcheck(fn, inputs, GradcheckOptions{eps, atol, rtol});
}

}  // namespace gau
