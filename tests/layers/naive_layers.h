#pragma once
// Naive f64 references for the layer tests: plain loops written from the formulas in the layers'
// headers (and docs/model.md), and a harness that checks a module's forward and every parameter
// and input gradient against one. The reference gradients are central differences of the naive
// loops themselves, so nothing of gau (neither its ops nor its autograd) enters the expected values.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "layers/module.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau::layers::naive {

using Vec = std::vector<double>;
using Params = std::map<std::string, Vec>;
// y = f(params, x), all row-major.
using NaiveFn = std::function<Vec(const Params& params, const Vec& x)>;

inline size_t at(int64_t i) { return static_cast<size_t>(i); }

// Central differences of loss() with respect to each element of v (perturbed in place).
inline Vec numeric_gradient(const std::function<double()>& loss, Vec& v, double eps = 1e-6) {
  Vec g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double saved = v[i];
    v[i] = saved + eps;
    const double plus = loss();
    v[i] = saved - eps;
    const double minus = loss();
    v[i] = saved;
    g[i] = (plus - minus) / (2 * eps);
  }
  return g;
}

inline double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Runs forward(x) of module m (parameters in x's dtype) with loss = sum(y * r), and checks y,
// d_x (when x is floating) and every parameter gradient against `ref`. Forward values are
// compared at `tol`, gradients (central differences, f64 only) at `grad_tol`.
inline void expect_matches(Module& m, const Tensor& x_in, const std::function<Tensor(const Tensor&)>& forward,
                           const NaiveFn& ref, double tol, double grad_tol = 1e-6, uint64_t seed = 99) {
  for (const auto& [name, p] : m.named_parameters()) p.set_grad(Tensor());
  const bool floating = is_floating(x_in.dtype());
  const Tensor x = floating ? ops::clone(x_in).requires_grad_() : x_in;
  const Tensor y = forward(x);
  const Tensor r = test::randn(y.shape(), y.dtype(), seed);
  gau::sum(gau::mul(y, r)).backward();

  Params params;
  for (const auto& [name, p] : m.named_parameters()) params[name] = test::values(p);
  Vec xv = test::values(x);
  const Vec rv = test::values(r);
  test::expect_close(y, ref(params, xv), tol, "y");
  if (x_in.dtype() != DType::f64) return;
  auto loss = [&] { return dot(ref(params, xv), rv); };
  if (floating) test::expect_close(x.grad(), numeric_gradient(loss, xv), grad_tol, "d_x");
  for (const auto& [name, p] : m.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name << " got no gradient";
    test::expect_close(p.grad(), numeric_gradient(loss, params[name]), grad_tol, "d_" + name);
  }
}

// ---- building blocks, x [rows, ...] row-major ----

// y [rows, out] = x [rows, in] w^T [in, out] + b
inline Vec linear(const Vec& x, const Vec& w, const Vec* b, int64_t rows, int64_t in, int64_t out) {
  Vec y(at(rows * out));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b ? (*b)[at(o)] : 0.0;
      for (int64_t k = 0; k < in; ++k) acc += x[at(i * in + k)] * w[at(o * in + k)];
      y[at(i * out + o)] = acc;
    }
  return y;
}

inline double silu(double v) { return v / (1 + std::exp(-v)); }
inline double sigmoid(double v) { return 1 / (1 + std::exp(-v)); }
inline double gelu(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }

inline Vec rms_norm(const Vec& x, const Vec& w, int64_t d, double eps) {
  Vec y(x.size());
  for (size_t r = 0; r < x.size() / at(d); ++r) {
    double ms = 0;
    for (int64_t j = 0; j < d; ++j) ms += x[r * at(d) + at(j)] * x[r * at(d) + at(j)];
    const double inv = 1 / std::sqrt(ms / static_cast<double>(d) + eps);
    for (int64_t j = 0; j < d; ++j) y[r * at(d) + at(j)] = x[r * at(d) + at(j)] * inv * w[at(j)];
  }
  return y;
}

inline Vec layer_norm(const Vec& x, const Vec& w, const Vec& b, int64_t d, double eps) {
  Vec y(x.size());
  for (size_t r = 0; r < x.size() / at(d); ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < d; ++j) mean += x[r * at(d) + at(j)] / static_cast<double>(d);
    for (int64_t j = 0; j < d; ++j) {
      const double c = x[r * at(d) + at(j)] - mean;
      var += c * c / static_cast<double>(d);
    }
    for (int64_t j = 0; j < d; ++j)
      y[r * at(d) + at(j)] = (x[r * at(d) + at(j)] - mean) / std::sqrt(var + eps) * w[at(j)] + b[at(j)];
  }
  return y;
}

inline Vec scale_norm(const Vec& x, double g, int64_t d, double eps) {
  Vec y(x.size());
  for (size_t r = 0; r < x.size() / at(d); ++r) {
    double sq = 0;
    for (int64_t j = 0; j < d; ++j) sq += x[r * at(d) + at(j)] * x[r * at(d) + at(j)];
    const double norm = std::max(std::sqrt(sq), eps);
    for (int64_t j = 0; j < d; ++j) y[r * at(d) + at(j)] = g * x[r * at(d) + at(j)] / norm;
  }
  return y;
}

// RoPE, rotate-half pairs (j, j + s/2), on x [outer, n, s]; row t at position offset + t.
inline Vec rope(const Vec& x, int64_t n, int64_t s, int64_t offset, double base = 10000) {
  Vec y(x.size());
  const int64_t half = s / 2;
  for (size_t o = 0; o < x.size() / at(n * s); ++o)
    for (int64_t t = 0; t < n; ++t)
      for (int64_t j = 0; j < half; ++j) {
        const double angle = static_cast<double>(offset + t) / std::pow(base, 2.0 * static_cast<double>(j) / s);
        const size_t row = o * at(n * s) + at(t * s);
        const double a = x[row + at(j)], b = x[row + at(j + half)];
        y[row + at(j)] = a * std::cos(angle) - b * std::sin(angle);
        y[row + at(j + half)] = b * std::cos(angle) + a * std::sin(angle);
      }
  return y;
}

// T5's bucketing, written from Raffel et al. (HF T5Attention._relative_position_bucket), with
// rel = query position - key position.
inline int64_t t5_bucket(int64_t rel, int64_t num_buckets, int64_t max_distance, bool bidirectional) {
  int64_t out = 0;
  int64_t n = rel;  // HF: n = -relative_position with relative_position = key - query
  if (bidirectional) {
    num_buckets /= 2;
    if (n < 0) out += num_buckets;
    n = std::abs(n);
  } else {
    n = std::max<int64_t>(n, 0);
  }
  const int64_t max_exact = num_buckets / 2;
  if (n < max_exact) return out + n;
  const double log_ratio =
      std::log(static_cast<double>(n) / max_exact) / std::log(static_cast<double>(max_distance) / max_exact);
  const int64_t large = max_exact + static_cast<int64_t>(log_ratio * static_cast<double>(num_buckets - max_exact));
  return out + std::min(large, num_buckets - 1);
}

// Softmax attention of one head: q [n_q, s], k, v [n_k, s] -> o [n_q, s]; query i at position
// i + n_k - n_q; bias(rel) added to the scores; keys j >= valid masked.
inline Vec softmax_attention(const Vec& q, const Vec& k, const Vec& v, int64_t nq, int64_t nk, int64_t s, double scale,
                             bool causal, const std::function<double(int64_t)>& bias, int64_t valid) {
  Vec o(at(nq * s), 0.0);
  for (int64_t i = 0; i < nq; ++i) {
    const int64_t pos = i + nk - nq;
    std::vector<double> w(at(nk), -std::numeric_limits<double>::infinity());
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < nk; ++j) {
      if ((causal && j > pos) || j >= valid) continue;
      double dotp = 0;
      for (int64_t x = 0; x < s; ++x) dotp += q[at(i * s + x)] * k[at(j * s + x)];
      w[at(j)] = dotp * scale + (bias ? bias(pos - j) : 0.0);
      mx = std::max(mx, w[at(j)]);
    }
    if (mx == -std::numeric_limits<double>::infinity()) continue;
    double total = 0;
    for (int64_t j = 0; j < nk; ++j) total += (w[at(j)] = std::exp(w[at(j)] - mx));
    for (int64_t j = 0; j < nk; ++j)
      for (int64_t x = 0; x < s; ++x) o[at(i * s + x)] += w[at(j)] / total * v[at(j * s + x)];
  }
  return o;
}

}  // namespace gau::layers::naive
