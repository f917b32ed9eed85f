// CUDA binary arithmetic (out of place, with a scalar, in place), comparisons, where, masked_fill.
#include <type_traits>

#include "core/dispatch.h"
#include "core/ops/cuda/elementwise_math.cuh"
#include "core/ops/cuda/loops.cuh"
#include "core/ops/elementwise_kernels.h"

namespace gau::ops::cuda {

namespace {

template <typename T>
struct BinaryFn {
  T* out;
  const T* a;
  const T* b;
  Binary op;
  __device__ void operator()(const int64_t (&o)[3]) const {
    out[o[0]] = T(binary_fn(op, to_acc(a[o[1]]), to_acc(b[o[2]])));
  }
};

// The scalar is used in acc_t<T>, as on the CPU.
template <typename T>
struct BinaryScalarFn {
  T* out;
  const T* a;
  acc_t<T> s;
  Binary op;
  __device__ void operator()(const int64_t (&o)[2]) const { out[o[0]] = T(binary_fn(op, to_acc(a[o[1]]), s)); }
};

template <typename T>
struct AxpyFn {
  T* a;
  const T* b;
  acc_t<T> alpha;
  __device__ void operator()(const int64_t (&o)[2]) const { a[o[0]] = T(to_acc(a[o[0]]) + alpha * to_acc(b[o[1]])); }
};

template <typename T>
struct CompareFn {
  bool* out;
  const T* a;
  const T* b;
  Compare op;
  __device__ void operator()(const int64_t (&o)[3]) const {
    out[o[0]] = compare_fn(op, to_acc(a[o[1]]), to_acc(b[o[2]]));
  }
};

// Integers compare against the scalar exactly, in double; floats in their acc_t.
template <typename T>
using compare_scalar_t = std::conditional_t<std::is_integral_v<T>, double, acc_t<T>>;

template <typename T>
struct CompareScalarFn {
  bool* out;
  const T* a;
  compare_scalar_t<T> s;
  Compare op;
  __device__ void operator()(const int64_t (&o)[2]) const {
    out[o[0]] = compare_fn(op, cast_value<compare_scalar_t<T>>(a[o[1]]), s);
  }
};

// where and masked_fill move bits: U is an unsigned integer of the dtype's size (dispatch_bits).
template <typename U>
struct WhereFn {
  U* out;
  const bool* cond;
  const U* a;
  const U* b;
  __device__ void operator()(const int64_t (&o)[4]) const { out[o[0]] = cond[o[1]] ? a[o[2]] : b[o[3]]; }
};

template <typename U>
struct MaskedFillFn {
  U* out;
  const U* x;
  const bool* mask;
  U value;
  __device__ void operator()(const int64_t (&o)[3]) const { out[o[0]] = mask[o[2]] ? value : x[o[1]]; }
};

// Dispatch over every dtype with arithmetic (not bool); div and pow need a floating dtype.
template <typename F>
void dispatch_arith(Binary op, const Tensor& a, F&& f) {
  GAU_CHECK(a.dtype() != DType::b8, binary_name(op), ": not defined for bool tensors");
  GAU_CHECK(is_floating(a.dtype()) || (op != Binary::div && op != Binary::pow), binary_name(op),
            ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(a));
  dispatch_all(a.dtype(), binary_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) f(tag);
  });
}

// out = a op b over `shape`; out may alias a (in place).
void binary_into(Binary op, const Tensor& out, const Tensor& a, const Tensor& b) {
  DeviceGuard guard(out.device());
  std::array<std::vector<int64_t>, 3> st{out.strides(), broadcast_strides(a, out.shape()),
                                         broadcast_strides(b, out.shape())};
  dispatch_arith(op, a, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<3>(out.shape(), st, current_cuda_stream(out.device()),
                          BinaryFn<T>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(a.data_ptr()),
                                      static_cast<const T*>(b.data_ptr()), op});
  });
}

void binary_scalar_into(Binary op, const Tensor& out, const Tensor& a, double s) {
  DeviceGuard guard(out.device());
  std::array<std::vector<int64_t>, 2> st{out.strides(), a.strides()};
  dispatch_arith(op, a, [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<2>(out.shape(), st, current_cuda_stream(out.device()),
                          BinaryScalarFn<T>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(a.data_ptr()),
                                            static_cast<acc_t<T>>(s), op});
  });
}

}  // namespace

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), binary_name(op));
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());  // broadcast(a, b)
  binary_into(op, out, a, b);
  return out;
}

Tensor binary_scalar(Binary op, const Tensor& a, double s) {
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());  // a's shape
  binary_scalar_into(op, out, a, s);
  return out;
}

void binary_(Binary op, const Tensor& a, const Tensor& b) { binary_into(op, a, a, b); }

void binary_scalar_(Binary op, const Tensor& a, double s) { binary_scalar_into(op, a, a, s); }

void axpy_(const Tensor& a, const Tensor& b, double alpha) {
  DeviceGuard guard(a.device());
  std::array<std::vector<int64_t>, 2> st{a.strides(), broadcast_strides(b, a.shape())};
  dispatch_floating(a.dtype(), "axpy_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<2>(
        a.shape(), st, current_cuda_stream(a.device()),
        AxpyFn<T>{static_cast<T*>(a.data_ptr()), static_cast<const T*>(b.data_ptr()), static_cast<acc_t<T>>(alpha)});
  });
}

Tensor compare(Compare op, const Tensor& a, const Tensor& b) {
  DeviceGuard guard(a.device());
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "compare");
  Tensor out = Tensor::empty(shape, DType::b8, a.device());  // broadcast(a, b)
  std::array<std::vector<int64_t>, 3> st{out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)};
  dispatch_all(a.dtype(), "compare", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<3>(shape, st, current_cuda_stream(a.device()),
                          CompareFn<T>{static_cast<bool*>(out.data_ptr()), static_cast<const T*>(a.data_ptr()),
                                       static_cast<const T*>(b.data_ptr()), op});
  });
  return out;
}

Tensor compare_scalar(Compare op, const Tensor& a, double s) {
  DeviceGuard guard(a.device());
  Tensor out = Tensor::empty(a.shape(), DType::b8, a.device());  // a's shape
  std::array<std::vector<int64_t>, 2> st{out.strides(), a.strides()};
  dispatch_all(a.dtype(), "compare_scalar", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<2>(a.shape(), st, current_cuda_stream(a.device()),
                          CompareScalarFn<T>{static_cast<bool*>(out.data_ptr()), static_cast<const T*>(a.data_ptr()),
                                             static_cast<compare_scalar_t<T>>(s), op});
  });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  DeviceGuard guard(a.device());
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());  // broadcast(cond, a, b)
  std::array<std::vector<int64_t>, 4> st{out.strides(), broadcast_strides(cond, shape), broadcast_strides(a, shape),
                                         broadcast_strides(b, shape)};
  dispatch_bits(a.dtype(), [&](auto tag) {
    using U = typename decltype(tag)::type;
    launch_elementwise<4>(shape, st, current_cuda_stream(a.device()),
                          WhereFn<U>{static_cast<U*>(out.data_ptr()), static_cast<const bool*>(cond.data_ptr()),
                                     static_cast<const U*>(a.data_ptr()), static_cast<const U*>(b.data_ptr())});
  });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  DeviceGuard guard(x.device());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  std::array<std::vector<int64_t>, 3> st{out.strides(), x.strides(), broadcast_strides(mask, x.shape())};
  dispatch_bits(x.dtype(), [&](auto tag) {
    using U = typename decltype(tag)::type;
    launch_elementwise<3>(x.shape(), st, current_cuda_stream(x.device()),
                          MaskedFillFn<U>{static_cast<U*>(out.data_ptr()), static_cast<const U*>(x.data_ptr()),
                                          static_cast<const bool*>(mask.data_ptr()), value_bits<U>(x.dtype(), value)});
  });
  return out;
}

}  // namespace gau::ops::cuda
