// CPU unscale-and-check: one OpenMP pass that multiplies and ORs a non-finite flag.
#include <cmath>

#include "core/dispatch.h"
#include "core/ops/cpu/parallel.h"
#include "optim/loss_scaler_kernels.h"

namespace gau::optim::cpu {

using ops::cpu::kParallelMin;

void unscale_and_check_(const Tensor& grads, double inv_scale, const Tensor& found) {
  const int64_t n = grads.numel();
  bool bad = false;
  dispatch_floating(grads.dtype(), "unscale_and_check_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    T* g = static_cast<T*>(grads.data_ptr());
    const A inv = static_cast<A>(inv_scale);
#pragma omp parallel for schedule(static) reduction(|| : bad) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      const A v = static_cast<A>(g[i]);
      bad = bad || !std::isfinite(v);
      g[i] = T(v * inv);
    }
  });
  if (bad) *found.data<int32_t>() = 1;
}

}  // namespace gau::optim::cpu
