// CPU ops with a selector or per-column parameters: where, masked_fill, scale_offset.
#include "core/ops/cpu/elementwise.h"
#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"

namespace gau::ops::cpu {

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());  // broadcast(cond, a, b)
  StridedIter it(shape, {out, cond, a, b});
  dispatch_all(a.dtype(), "where", [&](auto tag) {
    using T = typename decltype(tag)::type;
    map_kernel<T, bool, T, T>(it, [](bool c, T x, T y) { return c ? x : y; });
  });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  StridedIter it(x.shape(), {out, x, mask});
  dispatch_all(x.dtype(), "masked_fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = static_cast<T>(static_cast<acc_t<T>>(value));
    map_kernel<T, T, bool>(it, [v](T e, bool m) { return m ? v : e; });
  });
  return out;
}

Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  StridedIter it(x.shape(), {out, x, gamma, beta});
  dispatch_floating(x.dtype(), "scale_offset", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    map_kernel<T, T, T, T>(it, [](T v, T g, T b) { return T(A(v) * A(g) + A(b)); });
  });
  return out;
}

}  // namespace gau::ops::cpu
