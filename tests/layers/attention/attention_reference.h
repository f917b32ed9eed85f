#pragma once
// Naive f64 attention for tests: builds S, A and O literally (n_q x n_k per head) and their
// gradients, straight from docs/model.md. Shared by the CPU and GPU attention tests.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "layers/attention/attention.h"
#include "layers/attention/cpu/attention_math.h"

namespace gau::attention::testing {

struct RefProblem {
  int64_t b = 1, h = 1, n_q = 1, n_k = 1, s = 1, e = 1;
  Kernel kernel = Kernel::softmax;
  bool causal = false;
  double scale = 1;                   // already resolved
  bool scale_by_valid_length = false;  // scale = 1 / valid keys of the batch row
  double log_length_base = 0;          // > 1: scale * log(valid keys) / log(base), softmax_plus
  std::vector<int64_t> lengths;       // [b] or empty
  std::vector<bool> mask;             // [b * n_k] or empty (true = attend)
  RelativeBias::Kind bias_kind = RelativeBias::Kind::none;
  std::vector<double> table;
  int64_t max_offset = 0, num_buckets = 32, max_distance = 128;
  bool bidirectional = true;
  double dropout_p = 0;
  uint64_t seed = 0, offset = 0;
};

struct RefResult {
  std::vector<double> o, d_q, d_k, d_v, d_bias;
};

inline int64_t ref_bias_index(const RefProblem& p, int64_t rel) {
  if (p.bias_kind == RelativeBias::Kind::per_offset)
    return std::min(std::max(rel, -p.max_offset), p.max_offset) + p.max_offset;
  return detail::t5_bucket(rel, p.num_buckets, p.max_distance, p.bidirectional);
}

// q [b,h,n_q,s], k [b,h,n_k,s], v [b,h,n_k,e], d_o [b,h,n_q,e], all row-major.
inline RefResult reference_attention(const RefProblem& p, const std::vector<double>& q, const std::vector<double>& k,
                                      const std::vector<double>& v, const std::vector<double>& d_o) {
  const int64_t nq = p.n_q, nk = p.n_k, s = p.s, e = p.e;
  RefResult r;
  r.o.assign(p.b * p.h * nq * e, 0.0);
  r.d_q.assign(p.b * p.h * nq * s, 0.0);
  r.d_k.assign(p.b * p.h * nk * s, 0.0);
  r.d_v.assign(p.b * p.h * nk * e, 0.0);
  r.d_bias.assign(p.table.size(), 0.0);
  std::vector<double> S(nq * nk), A(nq * nk), M(nq * nk), dA(nq * nk), dS(nq * nk);
  std::vector<bool> masked(nq * nk);
  for (int64_t bh = 0; bh < p.b * p.h; ++bh) {
    const int64_t bb = bh / p.h;
    int64_t valid = p.lengths.empty() ? nk : p.lengths[bb];
    if (!p.mask.empty()) {
      valid = 0;
      for (int64_t j = 0; j < nk; ++j) valid += p.mask[bb * nk + j];
    }
    double scale = p.scale;
    if (p.scale_by_valid_length && valid > 0) scale = 1.0 / valid;
    if (p.log_length_base > 0 && valid > 0)
      scale = p.scale * std::log(static_cast<double>(valid)) / std::log(p.log_length_base);
    const double* Q = q.data() + bh * nq * s;
    const double* K = k.data() + bh * nk * s;
    const double* V = v.data() + bh * nk * e;
    const double* dO = d_o.data() + bh * nq * e;
    for (int64_t i = 0; i < nq; ++i) {
      for (int64_t j = 0; j < nk; ++j) {
        double dot = 0;
        for (int64_t x = 0; x < s; ++x) dot += Q[i * s + x] * K[j * s + x];
        // Query i sits at position i + (nk - nq): the bias and the causal mask both use it.
        S[i * nk + j] = dot * scale + (p.table.empty() ? 0.0 : p.table[ref_bias_index(p, i + (nk - nq) - j)]);
        bool m = p.causal && j > i + (nk - nq);
        if (!p.lengths.empty() && j >= p.lengths[bb]) m = true;
        if (!p.mask.empty() && !p.mask[bb * nk + j]) m = true;
        masked[i * nk + j] = m;
        const uint64_t element = static_cast<uint64_t>((bh * nq + i) * nk + j);
        M[i * nk + j] = p.dropout_p > 0
                            ? (philox_uniform(p.seed, p.offset, element) >= static_cast<float>(p.dropout_p)
                                   ? 1.0 / (1.0 - p.dropout_p)
                                   : 0.0)
                            : 1.0;
      }
      // A = kernel(S) on visible keys, 0 elsewhere.
      if (p.kernel == Kernel::softmax) {
        double mx = -std::numeric_limits<double>::infinity(), sum = 0;
        for (int64_t j = 0; j < nk; ++j)
          if (!masked[i * nk + j]) mx = std::max(mx, S[i * nk + j]);
        for (int64_t j = 0; j < nk; ++j) {
          A[i * nk + j] = masked[i * nk + j] ? 0.0 : std::exp(S[i * nk + j] - mx);
          sum += A[i * nk + j];
        }
        for (int64_t j = 0; j < nk; ++j) A[i * nk + j] = sum > 0 ? A[i * nk + j] / sum : 0.0;
      } else {
        for (int64_t j = 0; j < nk; ++j) {
          const double x = S[i * nk + j];
          A[i * nk + j] = masked[i * nk + j] ? 0.0
                          : p.kernel == Kernel::relu2
                              ? (x > 0 ? x * x : 0.0)
                              : 0.5 * (1 + std::erf((x - std::sqrt(0.5)) / (std::sqrt(1 / (4 * M_PI)) * std::sqrt(2.0))));
        }
      }
      // O = (A * M) V
      for (int64_t j = 0; j < nk; ++j)
        for (int64_t x = 0; x < e; ++x) r.o[(bh * nq + i) * e + x] += A[i * nk + j] * M[i * nk + j] * V[j * e + x];
    }
    // Backward: dA = (dO V^T) * M, dV = (A * M)^T dO, dS per kernel, dQ / dK through S = q k^T scale + bias.
    for (int64_t i = 0; i < nq; ++i) {
      for (int64_t j = 0; j < nk; ++j) {
        double dot = 0;
        for (int64_t x = 0; x < e; ++x) dot += dO[i * e + x] * V[j * e + x];
        dA[i * nk + j] = dot * M[i * nk + j];
        for (int64_t x = 0; x < e; ++x)
          r.d_v[(bh * nk + j) * e + x] += A[i * nk + j] * M[i * nk + j] * dO[i * e + x];
      }
      double row_dot = 0;
      for (int64_t j = 0; j < nk; ++j) row_dot += A[i * nk + j] * dA[i * nk + j];
      for (int64_t j = 0; j < nk; ++j) {
        const double x = S[i * nk + j];
        double g = 0;
        if (!masked[i * nk + j]) {
          if (p.kernel == Kernel::softmax) {
            g = A[i * nk + j] * (dA[i * nk + j] - row_dot);
          } else if (p.kernel == Kernel::relu2) {
            g = 2 * (x > 0 ? x : 0.0) * dA[i * nk + j];
          } else {
            const double sigma = std::sqrt(1 / (4 * M_PI)), z = (x - std::sqrt(0.5)) / sigma;
            g = std::exp(-0.5 * z * z) / (sigma * std::sqrt(2 * M_PI)) * dA[i * nk + j];
          }
        }
        dS[i * nk + j] = g;
        if (!p.table.empty()) r.d_bias[ref_bias_index(p, i + (nk - nq) - j)] += g;
        for (int64_t x2 = 0; x2 < s; ++x2) {
          r.d_q[(bh * nq + i) * s + x2] += g * K[j * s + x2] * scale;
          r.d_k[(bh * nk + j) * s + x2] += g * Q[i * s + x2] * scale;
        }
      }
    }
  }
  return r;
}

}  // namespace gau::attention::testing
