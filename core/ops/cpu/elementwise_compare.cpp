// CPU comparisons (tensor-tensor and tensor-scalar), producing b8; apart from the arithmetic in
// elementwise_binary.cpp so that the two template-heavy files compile in parallel.
#include <type_traits>

#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"
#include "core/ops/elementwise_kernels.h"

namespace gau::ops::cpu {

Tensor compare(Compare op, const Tensor& a, const Tensor& b) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "compare");
  Tensor out = Tensor::empty(shape, DType::b8, a.device());  // broadcast(a, b)
  StridedIter it(shape, {out, a, b});
  dispatch_compute(a.dtype(), "compare", [&](auto tag) {
    using A = typename decltype(tag)::type;
    with_op(op, [&](auto c) {
      constexpr Compare o = decltype(c)::value;
      map_kernel<bool, A, A>(it, [](A x, A y) { return compare_fn<o>(x, y); });
    });
  });
  return out;
}

Tensor compare_scalar(Compare op, const Tensor& a, double s) {
  Tensor out = Tensor::empty(a.shape(), DType::b8, a.device());  // a's shape
  StridedIter it(a.shape(), {out, a});
  dispatch_compute(a.dtype(), "compare_scalar", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Integers compare against the scalar exactly, in double; floats in their compute type.
    using A = std::conditional_t<std::is_integral_v<T>, double, T>;
    const A sa = static_cast<A>(s);
    with_op(op, [&](auto c) {
      constexpr Compare o = decltype(c)::value;
      map_kernel<bool, T>(it, [sa](T x) { return compare_fn<o>(A(x), sa); });
    });
  });
  return out;
}

}  // namespace gau::ops::cpu
