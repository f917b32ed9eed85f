// AdamW / Adam on CUDA: one multi-tensor launch over every chunk (math in optim/adam.h; the
// element update is the CPU's, optim/cpu/adam.cpp, line for line).
#include "optim/cuda/multi_tensor.cuh"

namespace gau::optim::cuda {

namespace {

template <typename W>
struct AdamLocal {
  W one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, decay, l2;
};

template <typename W, typename G, typename C, bool kStochastic, bool kDecoupled, bool kAmsgrad>
struct AdamOp {
  W* w;
  const G* g;
  C* copy;
  W* m;
  W* v;
  W* v_max;
  AdamScalars s;
  uint64_t seed, step;

  __device__ AdamLocal<W> prepare(const KernelRange& r) const {
    const double lr = s.lr * r.lr_scale;
    return {static_cast<W>(1 - s.beta1),
            static_cast<W>(s.beta2),
            static_cast<W>(1 - s.beta2),
            static_cast<W>(lr / s.bias_correction1),
            static_cast<W>(s.bias_correction2_sqrt),
            static_cast<W>(s.eps),
            static_cast<W>(1 - lr * r.weight_decay),
            static_cast<W>(r.weight_decay)};
  }
  __device__ void operator()(const AdamLocal<W>& k, int64_t i) const {
    W gi = static_cast<W>(g[i]);
    W wi = w[i];
    if constexpr (kDecoupled)
      wi *= k.decay;  // torch: param.mul_(1 - lr * weight_decay)
    else
      gi += k.l2 * wi;                                    // torch: grad = grad.add(param, alpha=weight_decay)
    const W mi = m[i] + k.one_minus_beta1 * (gi - m[i]);  // torch: exp_avg.lerp_(grad, 1 - beta1)
    W vi = k.beta2 * v[i] + k.one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = v_max[i] > vi ? v_max[i] : vi;
      v_max[i] = vi;
    }
    wi -= k.step_size * mi / (sqrt(vi) / k.bc2_sqrt + k.eps);  // torch: param.addcdiv_(exp_avg, denom, -step_size)
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
};

}  // namespace

void adam_step(const UpdateTarget& t, const RangeTable& table, const AdamScalars& s, const Tensor& m, const Tensor& v,
               const Tensor& v_max) {
  dispatch_target(t, "adam_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      auto run = [&](auto decoupled, auto amsgrad) {
        constexpr bool kDec = decltype(decoupled)::value, kAms = decltype(amsgrad)::value;
        AdamOp<W, G, C, kSR, kDec, kAms> op{b.w,
                                            b.g,
                                            b.copy,
                                            static_cast<W*>(m.data_ptr()),
                                            static_cast<W*>(v.data_ptr()),
                                            kAms ? static_cast<W*>(v_max.data_ptr()) : nullptr,
                                            s,
                                            t.seed,
                                            t.step};
        launch_chunks(table, t.w.device(), op);
      };
      if (s.decoupled)
        s.amsgrad ? run(std::true_type{}, std::true_type{}) : run(std::true_type{}, std::false_type{});
      else
        s.amsgrad ? run(std::false_type{}, std::true_type{}) : run(std::false_type{}, std::false_type{});
    });
  });
}

}  // namespace gau::optim::cuda
