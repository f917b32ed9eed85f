// SGD on CUDA: one multi-tensor launch over every chunk (math in optim/sgd.h; the element update
// is the CPU's, optim/cpu/sgd.cpp).
#include "optim/cuda/multi_tensor.cuh"

namespace gau::optim::cuda {

namespace {

template <typename W>
struct SgdLocal {
  W rate, l2;
};

template <typename W, typename G, typename C, bool kStochastic, bool kMomentum>
struct SgdOp {
  W* w;
  const G* g;
  C* copy;
  W* buf;
  SgdScalars s;
  uint64_t seed, step;

  __device__ SgdLocal<W> prepare(const KernelRange& r) const {
    return {static_cast<W>(s.lr * r.lr_scale), static_cast<W>(r.weight_decay)};
  }
  __device__ void operator()(const SgdLocal<W>& k, int64_t i) const {
    W wi = w[i];
    W d = static_cast<W>(g[i]) + k.l2 * wi;
    if constexpr (kMomentum) {
      const W mu = static_cast<W>(s.momentum);
      const W b = s.first_step ? d : mu * buf[i] + static_cast<W>(1 - s.dampening) * d;
      buf[i] = b;
      d = s.nesterov ? d + mu * b : b;
    }
    wi -= k.rate * d;
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
};

}  // namespace

void sgd_step(const UpdateTarget& t, const RangeTable& table, const SgdScalars& s, const Tensor& momentum) {
  dispatch_target(t, "sgd_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    W* buf = s.momentum != 0 ? static_cast<W*>(momentum.data_ptr()) : nullptr;
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      if (buf)
        launch_chunks(table, t.w.device(), SgdOp<W, G, C, kSR, true>{b.w, b.g, b.copy, buf, s, t.seed, t.step});
      else
        launch_chunks(table, t.w.device(), SgdOp<W, G, C, kSR, false>{b.w, b.g, b.copy, buf, s, t.seed, t.step});
    });
  });
}

}  // namespace gau::optim::cuda
