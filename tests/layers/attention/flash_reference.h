#pragma once
// Naive f64 reference for FLASH mixed chunk attention, built the way docs/model.md writes it: pad the
// sequence to G c tokens, cut it into chunks, and form every chunk's local scores and every
// chunk's prefix (or total) state literally, with no scans and no shared code with the op.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "layers/attention/flash.h"

namespace gau::attention::flash_ref {

struct FlashProblem {
  int64_t b = 2, n = 40, s = 8, e = 12;
  int64_t c = 16;
  bool causal = false;
  LinearNorm norm = LinearNorm::chunk;
  int64_t max_length = 0;
  std::vector<int64_t> lengths;  // empty: all n keys valid
  std::vector<double> bias;      // empty: no bias, else [2c - 1]
};

struct FlashData {
  std::vector<double> qq, kq, ql, kl, v;  // [b, n, s] x 4, [b, n, e]
};

inline FlashData random_data(const FlashProblem& p, uint32_t seed, double scale = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0.0, scale);
  auto fill = [&](int64_t count) {
    std::vector<double> x(count);
    for (double& t : x) t = nd(rng);
    return x;
  };
  FlashData d;
  d.qq = fill(p.b * p.n * p.s);
  d.kq = fill(p.b * p.n * p.s);
  d.ql = fill(p.b * p.n * p.s);
  d.kl = fill(p.b * p.n * p.s);
  d.v = fill(p.b * p.n * p.e);
  return d;
}

// o [b, n, e] in f64.
inline std::vector<double> flash_reference(const FlashProblem& p, const FlashData& d) {
  const int64_t G = (p.n + p.c - 1) / p.c, N = G * p.c, s = p.s, e = p.e, c = p.c;
  std::vector<double> out(p.b * p.n * e, 0.0);
  for (int64_t b = 0; b < p.b; ++b) {
    const int64_t len = p.lengths.empty() ? p.n : p.lengths[b];
    // The padded copies: rows past n are zero, and key rows at or past len are masked below.
    auto padded = [&](const std::vector<double>& x, int64_t w) {
      std::vector<double> y(N * w, 0.0);
      std::copy(x.begin() + b * p.n * w, x.begin() + (b + 1) * p.n * w, y.begin());
      return y;
    };
    auto qq = padded(d.qq, s), kq = padded(d.kq, s), ql = padded(d.ql, s), kl = padded(d.kl, s), v = padded(d.v, e);
    auto key_ok = [&](int64_t j) { return j < len && j < p.n; };
    // Per-chunk kl_h^T v_h over valid keys.
    std::vector<std::vector<double>> kv(G, std::vector<double>(s * e, 0.0));
    for (int64_t h = 0; h < G; ++h)
      for (int64_t j = h * c; j < (h + 1) * c; ++j)
        if (key_ok(j))
          for (int64_t x = 0; x < s; ++x)
            for (int64_t y = 0; y < e; ++y) kv[h][x * e + y] += kl[j * s + x] * v[j * e + y];
    for (int64_t g = 0; g < G; ++g) {
      // The global state and normaliser this chunk reads.
      std::vector<double> state(s * e, 0.0);
      double norm = 0;
      int64_t before = 0;
      for (int64_t h = 0; h < G; ++h) {
        if (p.causal && h >= g) continue;
        for (int64_t t = 0; t < s * e; ++t) state[t] += kv[h][t];
        for (int64_t j = h * c; j < (h + 1) * c; ++j) before += key_ok(j) ? 1 : 0;
      }
      if (!p.causal) {
        norm = double(len);
      } else if (p.norm == LinearNorm::chunk) {
        norm = double(c);
      } else if (p.norm == LinearNorm::n) {
        norm = double(p.max_length > 0 ? p.max_length : p.n);
      } else {
        norm = double(before);
      }
      for (int64_t i = g * c; i < std::min((g + 1) * c, p.n); ++i) {
        double* o = &out[(b * p.n + i) * e];
        for (int64_t j = g * c; j < (g + 1) * c; ++j) {
          if (!key_ok(j) || (p.causal && j > i)) continue;
          double dot = 0;
          for (int64_t x = 0; x < s; ++x) dot += qq[i * s + x] * kq[j * s + x];
          double a = dot / double(c) + (p.bias.empty() ? 0.0 : p.bias[(i - j) + c - 1]);
          a = a > 0 ? a * a : 0.0;
          for (int64_t y = 0; y < e; ++y) o[y] += a * v[j * e + y];
        }
        if (norm > 0)
          for (int64_t x = 0; x < s; ++x)
            for (int64_t y = 0; y < e; ++y) o[y] += ql[i * s + x] * state[x * e + y] / norm;
      }
    }
  }
  return out;
}

}  // namespace gau::attention::flash_ref
