#include "autograd/gradcheck.h"

#include <cmath>
#include <cstdint>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"

namespace gau {

namespace {

std::vector<double> to_host(const Tensor& t) {
  Tensor h = ops::contiguous(ops::to_device(ops::to_dtype(t, DType::f64), Device::cpu()));
  const double* p = h.data<double>();
  return std::vector<double>(p, p + h.numel());
}

// Fixed weights in [-1, 1] for output k (a small LCG: reproducible, no global RNG state touched).
std::vector<double> projection_weights(size_t k, int64_t n) {
  uint64_t state = 0x9E3779B97F4A7C15ull * (k + 1);
  std::vector<double> w(static_cast<size_t>(n));
  for (double& v : w) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<double>(state >> 11) / static_cast<double>(1ull << 53) * 2.0 - 1.0;
  }
  return w;
}

bool differentiable_output(const Tensor& y) { return y.defined() && is_floating(y.dtype()); }

// L = sum_k <w_k, y_k> in f64 on the host.
double projected_loss(const std::vector<Tensor>& ys) {
  double loss = 0;
  for (size_t k = 0; k < ys.size(); ++k) {
    if (!differentiable_output(ys[k])) continue;
    std::vector<double> y = to_host(ys[k]);
    std::vector<double> w = projection_weights(k, static_cast<int64_t>(y.size()));
    for (size_t i = 0; i < y.size(); ++i) loss += w[i] * y[i];
  }
  return loss;
}

}  // namespace

bool gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  bool any_marked = false;
  for (const Tensor& x : inputs) any_marked = any_marked || (x.defined() && x.requires_grad());

  std::vector<Tensor> xs(inputs.size());
  std::vector<bool> checked(inputs.size(), false);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !is_floating(x.dtype())) {
      xs[i] = x;
      continue;
    }
    NoGradGuard no_grad;
    xs[i] = ops::clone(ops::to_dtype(x.detach(), DType::f64));
    checked[i] = any_marked ? x.requires_grad() : true;
    if (checked[i]) xs[i].requires_grad_(true);
  }

  // Analytic: one backward of L = sum_k <w_k, y_k>.
  std::vector<Tensor> ys = fn(xs);
  std::vector<Tensor> roots, d_roots;
  for (size_t k = 0; k < ys.size(); ++k) {
    if (!differentiable_output(ys[k]) || !ys[k].requires_grad()) continue;
    roots.push_back(ys[k]);
    d_roots.push_back(ops::to_device(
        ops::to_dtype(ops::from_vector<double>(projection_weights(k, ys[k].numel()), ys[k].shape()), ys[k].dtype()),
        ys[k].device()));
  }
  if (!roots.empty()) autograd::backward(roots, d_roots);
  roots.clear();
  ys.clear();

  // Numeric: central differences, one element at a time, with recording off.
  NoGradGuard no_grad;
  double worst_score = 0;
  std::string worst;
  int64_t failures = 0, total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!checked[i]) continue;
    Tensor g = xs[i].grad();
    std::vector<double> analytic =
        g.defined() ? to_host(g) : std::vector<double>(static_cast<size_t>(xs[i].numel()), 0.0);
    std::vector<double> values = to_host(xs[i]);
    Tensor flat = ops::reshape(xs[i], {-1});  // a view: xs[i] is a contiguous clone
    for (int64_t j = 0; j < xs[i].numel(); ++j) {
      Tensor element = ops::narrow(flat, 0, j, 1);
      double v = values[static_cast<size_t>(j)];
      ops::fill_(element, v + opt.eps);
      double plus = projected_loss(fn(xs));
      ops::fill_(element, v - opt.eps);
      double minus = projected_loss(fn(xs));
      ops::fill_(element, v);
      double numeric = (plus - minus) / (2 * opt.eps);
      double a = analytic[static_cast<size_t>(j)];
      double abs_err = std::abs(a - numeric);
      double allowed = opt.atol + opt.rtol * std::abs(numeric);
      ++total;
      bool bad = !(abs_err <= allowed);  // NaN fails too
      if (!bad) continue;
      ++failures;
      double score = std::isnan(abs_err) ? INFINITY : abs_err / allowed;
      if (worst.empty() || score > worst_score) {
        worst_score = score;
        worst = detail::concat("input ", i, " (", describe(inputs[i]), ") element ", j, " at ",
                               unravel_index(j, xs[i].shape()), ": analytic ", a, ", numeric ", numeric, ", abs error ",
                               abs_err, ", rel error ", abs_err / std::max(std::abs(numeric), 1e-300));
      }
    }
  }
  GAU_CHECK(failures == 0, "gradcheck failed: ", worst, " (atol ", opt.atol, ", rtol ", opt.rtol, ", eps ", opt.eps,
            "); ", failures, " of ", total, " checked elements are out of tolerance");
  return true;
}

bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& opt) {
  GradcheckFn wrapped = [fn](const std::vector<Tensor>& in) { return std::vector<Tensor>{fn(in)}; };
  return gradcheck(wrapped, inputs, opt);
}

}  // namespace gau
