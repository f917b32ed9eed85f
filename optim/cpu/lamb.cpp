// LAMB on CPU: pass 1 updates m, v and sums w² and u² per chunk; the chunks of each parameter are
// summed in order into its trust ratio; pass 2 applies the update (math in optim/lamb.h).
#include <cmath>
#include <vector>

#include "optim/cpu/loops.h"

namespace gau::optim::cpu {

namespace {

template <typename W>
struct LambCoefs {
  W beta1, beta2, one_minus_beta1, one_minus_beta2, bc1, bc2, eps;
  explicit LambCoefs(const LambScalars& s)
      : beta1(static_cast<W>(s.beta1)),
        beta2(static_cast<W>(s.beta2)),
        one_minus_beta1(static_cast<W>(1 - s.beta1)),
        one_minus_beta2(static_cast<W>(1 - s.beta2)),
        bc1(static_cast<W>(s.bias_correction1)),
        bc2(static_cast<W>(s.bias_correction2)),
        eps(static_cast<W>(s.eps)) {}
  // u = m̂ / (√v̂ + ε) + wd · w
  W update(W m, W v, W w, W wd) const { return (m / bc1) / (std::sqrt(v / bc2) + eps) + wd * w; }
};

template <typename W, typename G>
void lamb_moments(W* __restrict w, const G* __restrict g, W* __restrict m, W* __restrict v, int64_t begin, int64_t end,
                  const LambCoefs<W>& k, W wd, double* partial) {
  double w2 = 0, u2 = 0;
  // The sums vectorise in lanes (omp simd), a fixed order for a given chunk: still deterministic.
#pragma omp simd reduction(+ : w2, u2)
  for (int64_t i = begin; i < end; ++i) {
    const W gi = static_cast<W>(g[i]);
    const W mi = k.beta1 * m[i] + k.one_minus_beta1 * gi;
    const W vi = k.beta2 * v[i] + k.one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const W u = k.update(mi, vi, w[i], wd);
    w2 += static_cast<double>(w[i]) * static_cast<double>(w[i]);
    u2 += static_cast<double>(u) * static_cast<double>(u);
  }
  partial[0] = w2;
  partial[1] = u2;
}

template <typename W, typename C, bool kStochastic>
void lamb_apply(W* __restrict w, C* __restrict copy, const W* __restrict m, const W* __restrict v, int64_t begin,
                int64_t end, const LambCoefs<W>& k, W wd, W rate, uint64_t seed, uint64_t step) {
  for (int64_t i = begin; i < end; ++i) {
    const W wi = w[i] - rate * k.update(m[i], v[i], w[i], wd);
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
}

}  // namespace

void lamb_step(const UpdateTarget& t, const RangeTable& table, const LambScalars& s, const Tensor& m, const Tensor& v,
               const Tensor& partial) {
  dispatch_target(t, "lamb_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    W* pm = m.data<W>();
    W* pv = v.data<W>();
    double* part = partial.data<double>();  // [chunks, 2]
    const LambCoefs<W> k(s);
    for_each_chunk(table, [&](int64_t c, const KernelRange& r, int64_t begin, int64_t end) {
      lamb_moments<W, G>(b.w, b.g, pm, pv, begin, end, k, static_cast<W>(r.weight_decay), part + 2 * c);
    });
    // r = ‖w‖ / ‖u‖ per parameter, its chunks summed in order.
    std::vector<double> trust(table.ranges.size(), 1.0);
    for (size_t ri = 0; ri < table.ranges.size(); ++ri) {
      const KernelRange& r = table.ranges[ri];
      double w2 = 0, u2 = 0;
      for (int64_t c = r.first_chunk; c < r.first_chunk + r.chunks; ++c) w2 += part[2 * c], u2 += part[2 * c + 1];
      if (w2 > 0 && u2 > 0) trust[ri] = std::sqrt(w2) / std::sqrt(u2);
    }
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      for_each_chunk(table, [&](int64_t, const KernelRange& r, int64_t begin, int64_t end) {
        const double rate = s.lr * r.lr_scale * trust[static_cast<size_t>(&r - table.ranges.data())];
        lamb_apply<W, C, kSR>(b.w, b.copy, pm, pv, begin, end, k, static_cast<W>(r.weight_decay), static_cast<W>(rate),
                              t.seed, t.step);
      });
    });
  });
}

}  // namespace gau::optim::cpu
