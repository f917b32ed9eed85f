// CPU clipping kernels: f64 sums of squares over fixed chunks (deterministic whatever the thread
// count), and an in-place clamp.
#include <algorithm>
#include <vector>

#include "core/dispatch.h"
#include "core/ops/cpu/parallel.h"
#include "optim/clip_kernels.h"

namespace gau::optim::cpu {

using ops::cpu::kParallelMin;

namespace {
// Elements per partial sum: the chunking, and so the order of the additions, depends only on n.
constexpr int64_t kChunk = int64_t{1} << 14;
}  // namespace

Tensor sum_squares(const Tensor& grads) {
  const int64_t n = grads.numel();
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);  // [chunks]
  dispatch_floating(grads.dtype(), "sum_squares", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* g = static_cast<const T*>(grads.data_ptr());
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t c = 0; c < chunks; ++c) {
      double s = 0;
      const int64_t end = std::min(n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; ++i) {
        const double v = static_cast<double>(static_cast<acc_t<T>>(g[i]));
        s += v * v;
      }
      partial[static_cast<size_t>(c)] = s;
    }
  });
  double total = 0;
  for (double s : partial) total += s;
  Tensor out = Tensor::empty({1}, DType::f64, grads.device());
  *out.data<double>() = total;
  return out;
}

void clamp_(const Tensor& grads, double max_value) {
  const int64_t n = grads.numel();
  dispatch_floating(grads.dtype(), "clip_grad_value", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    T* g = static_cast<T*>(grads.data_ptr());
    const A hi = static_cast<A>(max_value);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      const A v = static_cast<A>(g[i]);
      if (v > hi) g[i] = T(hi);
      if (v < -hi) g[i] = T(-hi);
    }
  });
}

}  // namespace gau::optim::cpu
