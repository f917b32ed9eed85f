// SGD on CPU: one pass over every chunk of the range table (math in optim/sgd.h).
#include "optim/cpu/loops.h"

namespace gau::optim::cpu {

namespace {

template <typename W, typename G, typename C, bool kStochastic, bool kMomentum>
void sgd_chunk(W* __restrict w, const G* __restrict g, C* __restrict copy, W* __restrict buf, int64_t begin,
               int64_t end, const SgdScalars& s, double lr, double wd, uint64_t seed, uint64_t step) {
  const W mu = static_cast<W>(s.momentum), keep = static_cast<W>(1 - s.dampening), l2 = static_cast<W>(wd);
  const W rate = static_cast<W>(lr);
  for (int64_t i = begin; i < end; ++i) {
    W wi = w[i];
    W d = static_cast<W>(g[i]) + l2 * wi;  // torch: d_p = d_p.add(param, alpha=weight_decay)
    if constexpr (kMomentum) {
      const W b = s.first_step ? d : mu * buf[i] + keep * d;  // torch: buf.mul_(momentum).add_(d_p, 1 - dampening)
      buf[i] = b;
      d = s.nesterov ? d + mu * b : b;  // torch: d_p = d_p.add(buf, alpha=momentum) if nesterov else buf
    }
    wi -= rate * d;  // torch: param.add_(d_p, alpha=-lr)
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
}

}  // namespace

void sgd_step(const UpdateTarget& t, const RangeTable& table, const SgdScalars& s, const Tensor& momentum) {
  dispatch_target(t, "sgd_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    W* buf = s.momentum != 0 ? momentum.data<W>() : nullptr;
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      for_each_chunk(table, [&](int64_t, const KernelRange& r, int64_t begin, int64_t end) {
        if (buf)
          sgd_chunk<W, G, C, kSR, true>(b.w, b.g, b.copy, buf, begin, end, s, s.lr * r.lr_scale, r.weight_decay, t.seed,
                                        t.step);
        else
          sgd_chunk<W, G, C, kSR, false>(b.w, b.g, b.copy, buf, begin, end, s, s.lr * r.lr_scale, r.weight_decay,
                                         t.seed, t.step);
      });
    });
  });
}

}  // namespace gau::optim::cpu
