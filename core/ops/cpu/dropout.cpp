// CPU dropout: one Philox block per 4 elements, OpenMP over blocks.
#include "core/dispatch.h"
#include "core/ops/cpu/parallel.h"
#include "core/ops/dropout_kernels.h"
#include "core/ops/scalar_math.h"

namespace gau::ops::cpu {

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // [numel]
  const int64_t n = x.numel(), blocks = (n + 3) / 4;
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    const A scale = static_cast<A>(1 / (1 - p));
    const float keep_p = static_cast<float>(p);  // compared in float, as scalar_math.h does
                                                 //   torch: y = x * mask / (1 - p)
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t b = 0; b < blocks; ++b) {
      const Philox4 bits = philox4x32_10(seed, offset + static_cast<uint64_t>(b));
      for (int64_t k = 0; k < 4 && 4 * b + k < n; ++k) {
        const int64_t i = 4 * b + k;
        yp[i] = math::dropout_keep_word(bits.v[k], keep_p) ? static_cast<T>(static_cast<A>(xp[i]) * scale) : T(0.0f);
      }
    }
  });
  return y;
}

}  // namespace gau::ops::cpu
