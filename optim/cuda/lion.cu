// Lion on CUDA: one multi-tensor launch over every chunk (math in optim/lion.h; the element
// update is the CPU's, optim/cpu/lion.cpp).
#include "optim/cuda/multi_tensor.cuh"

namespace gau::optim::cuda {

namespace {

template <typename W>
struct LionLocal {
  W rate, decay;
};

template <typename W, typename G, typename C, bool kStochastic>
struct LionOp {
  W* w;
  const G* g;
  C* copy;
  W* m;
  LionScalars s;
  uint64_t seed, step;

  __device__ LionLocal<W> prepare(const KernelRange& r) const {
    const double lr = s.lr * r.lr_scale;
    return {static_cast<W>(lr), static_cast<W>(1 - lr * r.weight_decay)};
  }
  __device__ void operator()(const LionLocal<W>& k, int64_t i) const {
    const W gi = static_cast<W>(g[i]);
    const W c = static_cast<W>(s.beta1) * m[i] + static_cast<W>(1 - s.beta1) * gi;
    const W sign = static_cast<W>((c > 0) - (c < 0));
    const W wi = w[i] * k.decay - k.rate * sign;  // torch: p.mul_(1 - lr * wd).add_(c.sign(), alpha=-lr)
    m[i] = static_cast<W>(s.beta2) * m[i] + static_cast<W>(1 - s.beta2) * gi;
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
};

}  // namespace

void lion_step(const UpdateTarget& t, const RangeTable& table, const LionScalars& s, const Tensor& m) {
  dispatch_target(t, "lion_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      launch_chunks(table, t.w.device(),
                    LionOp<W, G, C, kSR>{b.w, b.g, b.copy, static_cast<W*>(m.data_ptr()), s, t.seed, t.step});
    });
  });
}

}  // namespace gau::optim::cuda
