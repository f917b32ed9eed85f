// Lion on CPU: one pass over every chunk of the range table (math in optim/lion.h).
#include "optim/cpu/loops.h"

namespace gau::optim::cpu {

namespace {

template <typename W, typename G, typename C, bool kStochastic>
void lion_chunk(W* __restrict w, const G* __restrict g, C* __restrict copy, W* __restrict m, int64_t begin, int64_t end,
                const LionScalars& s, double lr, double wd, uint64_t seed, uint64_t step) {
  const W beta1 = static_cast<W>(s.beta1), beta2 = static_cast<W>(s.beta2);
  const W one_minus_beta1 = static_cast<W>(1 - s.beta1), one_minus_beta2 = static_cast<W>(1 - s.beta2);
  const W rate = static_cast<W>(lr), decay = static_cast<W>(1 - lr * wd);
  for (int64_t i = begin; i < end; ++i) {
    const W gi = static_cast<W>(g[i]);
    const W c = beta1 * m[i] + one_minus_beta1 * gi;  // torch: exp_avg.mul(beta1).add(grad, alpha=1 - beta1)
    const W sign = static_cast<W>((c > 0) - (c < 0));
    const W wi = w[i] * decay - rate * sign;  // torch: p.mul_(1 - lr * wd).add_(c.sign(), alpha=-lr)
    m[i] = beta2 * m[i] + one_minus_beta2 * gi;
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
}

}  // namespace

void lion_step(const UpdateTarget& t, const RangeTable& table, const LionScalars& s, const Tensor& m) {
  dispatch_target(t, "lion_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    W* pm = m.data<W>();
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      for_each_chunk(table, [&](int64_t, const KernelRange& r, int64_t begin, int64_t end) {
        lion_chunk<W, G, C, kSR>(b.w, b.g, b.copy, pm, begin, end, s, s.lr * r.lr_scale, r.weight_decay, t.seed,
                                 t.step);
      });
    });
  });
}

}  // namespace gau::optim::cpu
