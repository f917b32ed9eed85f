// CUDA unary ops, their derivatives, the fused bias + activation and scale_offset.
#include <type_traits>

#include "core/dispatch.h"
#include "core/ops/elementwise_kernels.h"
#include "core/ops/cuda/elementwise_math.cuh"
#include "core/ops/cuda/loops.cuh"

namespace gau::ops::cuda {

namespace {

template <typename T>
struct UnaryFn {
  T* y;
  const T* x;
  Unary op;
  __device__ void operator()(const int64_t (&o)[2]) const { y[o[0]] = T(unary_fn(op, to_acc(x[o[1]]))); }
};

template <typename T>
struct UnaryBackwardFn {
  T* d_x;
  const T* x;
  const T* d_y;
  Unary op;
  __device__ void operator()(const int64_t (&o)[3]) const {
    d_x[o[0]] = T(to_acc(d_y[o[2]]) * unary_grad(op, to_acc(x[o[1]])));
  }
};

template <typename T>
struct BiasActFn {
  T* y;
  const T* x;
  const T* bias;
  Activation act;
  __device__ void operator()(const int64_t (&o)[3]) const {
    y[o[0]] = T(activation_fn(act, to_acc(x[o[1]]) + to_acc(bias[o[2]])));
  }
};

template <typename T>
struct BiasActBackwardFn {
  T* d_x;
  const T* x;
  const T* bias;
  const T* d_y;
  Activation act;
  __device__ void operator()(const int64_t (&o)[4]) const {
    d_x[o[0]] = T(to_acc(d_y[o[3]]) * activation_grad(act, to_acc(x[o[1]]) + to_acc(bias[o[2]])));
  }
};

template <typename T>
struct ScaleOffsetFn {
  T* y;
  const T* x;
  const T* gamma;
  const T* beta;
  __device__ void operator()(const int64_t (&o)[4]) const {
    y[o[0]] = T(to_acc(x[o[1]]) * to_acc(gamma[o[2]]) + to_acc(beta[o[3]]));
  }
};

// neg and abs also make sense on integers; everything else needs a floating dtype.
void check_unary_dtype(Unary op, const Tensor& x, const char* suffix) {
  GAU_CHECK(x.dtype() != DType::b8, unary_name(op), suffix, ": not defined for bool tensors");
  GAU_CHECK(is_floating(x.dtype()) || op == Unary::neg || op == Unary::abs, unary_name(op), suffix,
            ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(x));
}

template <typename F>
void dispatch_unary(DType t, const char* name, F&& f) {
  dispatch_all(t, name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) f(tag);
  });
}

}  // namespace

Tensor unary(Unary op, const Tensor& x) {
  check_unary_dtype(op, x, "");
  DeviceGuard guard(x.device());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  std::array<std::vector<int64_t>, 2> st{y.strides(), x.strides()};
  dispatch_unary(x.dtype(), unary_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<2>(x.shape(), st, current_cuda_stream(x.device()),
                          UnaryFn<T>{static_cast<T*>(y.data_ptr()), static_cast<const T*>(x.data_ptr()), op});
  });
  return y;
}

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& d_y) {
  check_unary_dtype(op, x, "_backward");
  DeviceGuard guard(x.device());
  Tensor d_x = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  std::array<std::vector<int64_t>, 3> st{d_x.strides(), x.strides(), broadcast_strides(d_y, x.shape())};
  dispatch_unary(x.dtype(), unary_name(op), [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<3>(x.shape(), st, current_cuda_stream(x.device()),
                          UnaryBackwardFn<T>{static_cast<T*>(d_x.data_ptr()), static_cast<const T*>(x.data_ptr()),
                                             static_cast<const T*>(d_y.data_ptr()), op});
  });
  return d_x;
}

Tensor bias_act(const Tensor& x, const Tensor& bias, Activation act) {
  DeviceGuard guard(x.device());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  std::array<std::vector<int64_t>, 3> st{y.strides(), x.strides(), broadcast_strides(bias, x.shape())};
  dispatch_floating(x.dtype(), "bias_act", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<3>(x.shape(), st, current_cuda_stream(x.device()),
                          BiasActFn<T>{static_cast<T*>(y.data_ptr()), static_cast<const T*>(x.data_ptr()),
                                       static_cast<const T*>(bias.data_ptr()), act});
  });
  return y;
}

Tensor bias_act_backward(const Tensor& x, const Tensor& bias, Activation act, const Tensor& d_y) {
  DeviceGuard guard(x.device());
  Tensor d_x = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  std::array<std::vector<int64_t>, 4> st{d_x.strides(), x.strides(), broadcast_strides(bias, x.shape()),
                                         broadcast_strides(d_y, x.shape())};
  dispatch_floating(x.dtype(), "bias_act_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<4>(x.shape(), st, current_cuda_stream(x.device()),
                          BiasActBackwardFn<T>{static_cast<T*>(d_x.data_ptr()), static_cast<const T*>(x.data_ptr()),
                                               static_cast<const T*>(bias.data_ptr()),
                                               static_cast<const T*>(d_y.data_ptr()), act});
  });
  return d_x;
}

Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  DeviceGuard guard(x.device());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape [*, d]
  std::array<std::vector<int64_t>, 4> st{y.strides(), x.strides(), broadcast_strides(gamma, x.shape()),
                                         broadcast_strides(beta, x.shape())};
  dispatch_floating(x.dtype(), "scale_offset", [&](auto tag) {
    using T = typename decltype(tag)::type;
    launch_elementwise<4>(x.shape(), st, current_cuda_stream(x.device()),
                          ScaleOffsetFn<T>{static_cast<T*>(y.data_ptr()), static_cast<const T*>(x.data_ptr()),
                                           static_cast<const T*>(gamma.data_ptr()),
                                           static_cast<const T*>(beta.data_ptr())});
  });
  return y;
}

}  // namespace gau::ops::cuda
