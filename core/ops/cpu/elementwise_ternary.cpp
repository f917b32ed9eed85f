// CPU ops with a selector or per-column parameters: where, masked_fill, scale_offset.
#include <cstring>

#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"
#include "core/ops/elementwise_kernels.h"

namespace gau::ops::cpu {

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());  // broadcast(cond, a, b)
  StridedIter it(shape, {out, cond, a, b});
  dispatch_bits(a.dtype(), [&](auto tag) {
    using U = typename decltype(tag)::type;
    map_kernel<U, bool, U, U>(it, [](bool c, U x, U y) { return c ? x : y; });
  });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  StridedIter it(x.shape(), {out, x, mask});
  // The fill value as stored in x's dtype; the kernel only moves its bits.
  uint64_t bits = 0;
  dispatch_all(x.dtype(), "masked_fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = static_cast<T>(static_cast<acc_t<T>>(value));
    std::memcpy(&bits, &v, sizeof(T));
  });
  dispatch_bits(x.dtype(), [&](auto tag) {
    using U = typename decltype(tag)::type;
    U v;
    std::memcpy(&v, &bits, sizeof(U));
    map_kernel<U, U, bool>(it, [v](U e, bool m) { return m ? v : e; });
  });
  return out;
}

Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  StridedIter it(x.shape(), {out, x, gamma, beta});
  dispatch_floating_compute(x.dtype(), "scale_offset", [&](auto tag) {
    using A = typename decltype(tag)::type;
    map_kernel<A, A, A, A>(it, [](A v, A g, A b) { return v * g + b; });
  });
  return out;
}

}  // namespace gau::ops::cpu
