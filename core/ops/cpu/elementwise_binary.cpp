// CPU binary arithmetic (out of place, with a scalar, in place); comparisons are in elementwise_compare.cpp.
#include <type_traits>

#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"
#include "core/ops/elementwise_kernels.h"

namespace gau::ops::cpu {

namespace {

// div and pow need a floating dtype; the others also run on integers. A is the compute type.
template <typename A, Binary op>
constexpr bool binary_defined() {
  return std::is_floating_point_v<A> || (op != Binary::div && op != Binary::pow);
}

// out = a op b over `it`, whose operands are (out, a, b).
void binary_kernel(Binary op, const StridedIter& it, const Tensor& a) {
  dispatch_arith(a.dtype(), binary_name(op), [&](auto tag) {
    using A = typename decltype(tag)::type;
    with_op(op, [&](auto c) {
      constexpr Binary o = decltype(c)::value;
      if constexpr (binary_defined<A, o>()) {
        map_kernel<A, A, A>(it, [](A x, A y) { return A(binary_fn<o>(x, y)); });
      } else {
        GAU_FAIL(binary_name(op), ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(a));
      }
    });
  });
}

// out = a op s over `it`, whose operands are (out, a). The scalar is used in the compute type.
void binary_scalar_kernel(Binary op, const StridedIter& it, const Tensor& a, double s) {
  dispatch_arith(a.dtype(), binary_name(op), [&](auto tag) {
    using A = typename decltype(tag)::type;
    with_op(op, [&](auto c) {
      constexpr Binary o = decltype(c)::value;
      if constexpr (binary_defined<A, o>()) {
        const A sa = static_cast<A>(s);
        map_kernel<A, A>(it, [sa](A x) { return A(binary_fn<o>(x, sa)); });
      } else {
        GAU_FAIL(binary_name(op), ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(a));
      }
    });
  });
}

}  // namespace

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  Shape shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), binary_name(op));
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());  // broadcast(a, b)
  binary_kernel(op, StridedIter(shape, {out, a, b}), a);
  return out;
}

Tensor binary_scalar(Binary op, const Tensor& a, double s) {
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());  // a's shape
  binary_scalar_kernel(op, StridedIter(a.shape(), {out, a}), a, s);
  return out;
}

void binary_(Binary op, const Tensor& a, const Tensor& b) { binary_kernel(op, StridedIter(a.shape(), {a, a, b}), a); }

void binary_scalar_(Binary op, const Tensor& a, double s) {
  binary_scalar_kernel(op, StridedIter(a.shape(), {a, a}), a, s);
}

void axpy_(const Tensor& a, const Tensor& b, double alpha) {
  StridedIter it(a.shape(), {a, a, b});
  dispatch_floating_compute(a.dtype(), "axpy_", [&](auto tag) {
    using A = typename decltype(tag)::type;
    const A al = static_cast<A>(alpha);
    map_kernel<A, A, A>(it, [al](A x, A y) { return x + al * y; });
  });
}

}  // namespace gau::ops::cpu
