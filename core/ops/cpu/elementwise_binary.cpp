// CPU binary arithmetic (out of place, with a scalar, in place); comparisons are in elementwise_compare.cpp.
#include <type_traits>

#include "core/ops/cpu/elementwise.h"
#include "core/ops/cpu/elementwise_iter.h"
#include "core/ops/cpu/elementwise_math.h"

namespace gau::ops::cpu {

namespace {

// div and pow need a floating dtype; the others also run on integers.
template <typename T, Binary op>
constexpr bool binary_defined() {
  return std::is_floating_point_v<acc_t<T>> || (op != Binary::div && op != Binary::pow);
}

// out = a op b over `it`, whose operands are (out, a, b).
void binary_kernel(Binary op, const StridedIter& it, const Tensor& a) {
  dispatch_arith(a.dtype(), binary_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    with_op(op, [&](auto c) {
      constexpr Binary o = decltype(c)::value;
      if constexpr (binary_defined<T, o>()) {
        map_kernel<T, T, T>(it, [](T x, T y) { return T(binary_fn<o>(A(x), A(y))); });
      } else {
        GAU_FAIL(binary_name(op), ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(a));
      }
    });
  });
}

// out = a op s over `it`, whose operands are (out, a). The scalar is used in acc_t<T>.
void binary_scalar_kernel(Binary op, const StridedIter& it, const Tensor& a, double s) {
  dispatch_arith(a.dtype(), binary_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    with_op(op, [&](auto c) {
      constexpr Binary o = decltype(c)::value;
      if constexpr (binary_defined<T, o>()) {
        const A sa = static_cast<A>(s);
        map_kernel<T, T>(it, [sa](T x) { return T(binary_fn<o>(A(x), sa)); });
      } else {
        GAU_FAIL(binary_name(op), ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(a));
      }
    });
  });
}

}  // namespace

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), binary_name(op));
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
  dispatch_floating(a.dtype(), "axpy_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    const A al = static_cast<A>(alpha);
    map_kernel<T, T, T>(it, [al](T x, T y) { return T(A(x) + al * A(y)); });
  });
}

}  // namespace gau::ops::cpu
