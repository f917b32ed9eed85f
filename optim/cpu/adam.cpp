// AdamW / Adam on CPU: one pass over every chunk of the range table (math in optim/adam.h).
#include <cmath>

#include "optim/cpu/loops.h"

namespace gau::optim::cpu {

namespace {

// One chunk [begin, end) of the flat buffers. The loop has no branches (decay and amsgrad are
// template arguments), so the compiler vectorises it; the stochastic copy is the exception.
template <typename W, typename G, typename C, bool kStochastic, bool kDecoupled, bool kAmsgrad>
void adam_chunk(W* __restrict w, const G* __restrict g, C* __restrict copy, W* __restrict m, W* __restrict v,
                W* __restrict v_max, int64_t begin, int64_t end, const AdamScalars& s, double lr, double wd,
                uint64_t seed, uint64_t step) {
  const W beta2 = static_cast<W>(s.beta2);
  const W one_minus_beta1 = static_cast<W>(1 - s.beta1), one_minus_beta2 = static_cast<W>(1 - s.beta2);
  const W step_size = static_cast<W>(lr / s.bias_correction1);
  const W bc2_sqrt = static_cast<W>(s.bias_correction2_sqrt), eps = static_cast<W>(s.eps);
  const W decay = static_cast<W>(1 - lr * wd), l2 = static_cast<W>(wd);
  for (int64_t i = begin; i < end; ++i) {
    W gi = static_cast<W>(g[i]);
    W wi = w[i];
    if constexpr (kDecoupled)
      wi *= decay;  // torch: param.mul_(1 - lr * weight_decay)
    else
      gi += l2 * wi;                                    // torch: grad = grad.add(param, alpha=weight_decay)
    const W mi = m[i] + one_minus_beta1 * (gi - m[i]);  // torch: exp_avg.lerp_(grad, 1 - beta1)
    W vi = beta2 * v[i] + one_minus_beta2 * gi * gi;    // torch: exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = v_max[i] > vi ? v_max[i] : vi;  // torch: torch.maximum(max_exp_avg_sq, exp_avg_sq)
      v_max[i] = vi;
    }
    wi -= step_size * mi / (std::sqrt(vi) / bc2_sqrt + eps);  // torch: param.addcdiv_(exp_avg, denom, -step_size)
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
}

}  // namespace

void adam_step(const UpdateTarget& t, const RangeTable& table, const AdamScalars& s, const Tensor& m, const Tensor& v,
               const Tensor& v_max) {
  dispatch_target(t, "adam_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    W* pm = m.data<W>();
    W* pv = v.data<W>();
    W* pmax = s.amsgrad ? v_max.data<W>() : nullptr;
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      auto run = [&](auto decoupled, auto amsgrad) {
        constexpr bool kDec = decltype(decoupled)::value, kAms = decltype(amsgrad)::value;
        for_each_chunk(table, [&](int64_t, const KernelRange& r, int64_t begin, int64_t end) {
          adam_chunk<W, G, C, kSR, kDec, kAms>(b.w, b.g, b.copy, pm, pv, pmax, begin, end, s, s.lr * r.lr_scale,
                                               r.weight_decay, t.seed, t.step);
        });
      };
      if (s.decoupled)
        s.amsgrad ? run(std::true_type{}, std::true_type{}) : run(std::true_type{}, std::false_type{});
      else
        s.amsgrad ? run(std::false_type{}, std::true_type{}) : run(std::false_type{}, std::false_type{});
    });
  });
}

}  // namespace gau::optim::cpu
