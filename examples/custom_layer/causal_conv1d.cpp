// causal_conv1d as a gau Function<T>: forward and backward check their tensors and hand raw
// pointers to this library's own kernels (causal_conv1d_kernels.h), the CPU ones or the CUDA ones
// by the tensors' device.
#include "causal_conv1d.h"

#include <string>

#include "autograd/function.h"
#include "causal_conv1d_kernels.h"
#include "core/error.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"

#ifdef GAU_CUSTOM_WITH_CUDA
#include "core/cuda/context.h"  // the current stream; GAU_CUDA_CHECK
#endif

namespace gau_custom {
namespace {

using gau::DType;
using gau::Tensor;

kernels::ConvDims dims_of(const Tensor& x, const Tensor& w) { return {x.size(0), x.size(1), x.size(2), w.size(0)}; }

void check_inputs(const Tensor& x, const Tensor& w) {
  GAU_CHECK(x.defined() && w.defined(), "causal_conv1d: x and w must be defined tensors");
  GAU_CHECK(x.dim() == 3, "causal_conv1d: expected x [b, n, c], got ", gau::describe(x));
  GAU_CHECK(w.dim() == 2 && w.size(1) == x.size(2) && w.size(0) >= 1, "causal_conv1d: expected w [k, ", x.size(2),
            "] with k >= 1 (c = ", x.size(2), " from x ", gau::describe(x), "), got ", gau::describe(w));
  GAU_CHECK(x.dtype() == w.dtype() && x.device() == w.device(),
            "causal_conv1d: x and w must have one dtype and device, got x ", gau::describe(x), " and w ",
            gau::describe(w));
  if (x.is_cpu()) {
    GAU_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64,
              "causal_conv1d: the CPU kernel takes f32 or f64, got x ", gau::describe(x));
  } else {
#ifdef GAU_CUSTOM_WITH_CUDA
    GAU_CHECK(x.dtype() == DType::f32, "causal_conv1d: the CUDA kernel takes f32, got x ", gau::describe(x));
#else
    GAU_FAIL("causal_conv1d: x ", gau::describe(x),
             " is on a CUDA device, but libgau_custom was built without CUDA (against a gau without CUDA)");
#endif
  }
}

// The three entry points below take contiguous tensors that check_inputs accepted.
void run_forward(const Tensor& x, const Tensor& w, const Tensor& y) {
  const kernels::ConvDims d = dims_of(x, w);
#ifdef GAU_CUSTOM_WITH_CUDA
  if (x.is_cuda()) {
    gau::cuda::DeviceGuard guard(x.device());
    GAU_CUDA_CHECK(kernels::forward_cuda(x.data<float>(), w.data<float>(), y.data<float>(), d,
                                         gau::cuda::current_cuda_stream(x.device())));
    return;
  }
#endif
  if (x.dtype() == DType::f32)
    kernels::forward_cpu(x.data<float>(), w.data<float>(), y.data<float>(), d);
  else
    kernels::forward_cpu(x.data<double>(), w.data<double>(), y.data<double>(), d);
}

void run_backward_input(const Tensor& dy, const Tensor& w, const Tensor& dx) {
  const kernels::ConvDims d = dims_of(dy, w);
#ifdef GAU_CUSTOM_WITH_CUDA
  if (dy.is_cuda()) {
    gau::cuda::DeviceGuard guard(dy.device());
    GAU_CUDA_CHECK(kernels::backward_input_cuda(dy.data<float>(), w.data<float>(), dx.data<float>(), d,
                                                gau::cuda::current_cuda_stream(dy.device())));
    return;
  }
#endif
  if (dy.dtype() == DType::f32)
    kernels::backward_input_cpu(dy.data<float>(), w.data<float>(), dx.data<float>(), d);
  else
    kernels::backward_input_cpu(dy.data<double>(), w.data<double>(), dx.data<double>(), d);
}

void run_backward_weight(const Tensor& x, const Tensor& dy, const Tensor& dw) {
  const kernels::ConvDims d = dims_of(x, dw);
#ifdef GAU_CUSTOM_WITH_CUDA
  if (x.is_cuda()) {
    gau::cuda::DeviceGuard guard(x.device());
    GAU_CUDA_CHECK(kernels::backward_weight_cuda(x.data<float>(), dy.data<float>(), dw.data<float>(), d,
                                                 gau::cuda::current_cuda_stream(x.device())));
    return;
  }
#endif
  if (x.dtype() == DType::f32)
    kernels::backward_weight_cpu(x.data<float>(), dy.data<float>(), dw.data<float>(), d);
  else
    kernels::backward_weight_cpu(x.data<double>(), dy.data<double>(), dw.data<double>(), d);
}

struct CausalConv1d : gau::autograd::Function<CausalConv1d> {
  static constexpr const char* name = "causal_conv1d";  // names the node in autograd's errors

  static Tensor forward(gau::autograd::Context& ctx, const Tensor& x, const Tensor& w) {
    check_inputs(x, w);
    // The kernels index plain row-major arrays; contiguous() returns a tensor that already is one.
    const Tensor xc = gau::ops::contiguous(x), wc = gau::ops::contiguous(w);
    Tensor y = gau::ops::empty(x.shape(), x.dtype(), x.device());
    if (y.numel() > 0) run_forward(xc, wc, y);
    ctx.save_for_backward({xc, wc});
    return y;
  }

  static std::vector<Tensor> backward(gau::autograd::Context& ctx, const std::vector<Tensor>& d_out) {
    const Tensor x = ctx.saved(0), w = ctx.saved(1);
    const Tensor dy = gau::ops::contiguous(d_out[0]);
    Tensor dx, dw;
    if (ctx.needs_input_grad(0)) {
      dx = gau::ops::empty(x.shape(), x.dtype(), x.device());
      if (dx.numel() > 0) run_backward_input(dy, w, dx);
    }
    if (ctx.needs_input_grad(1)) {
      // An empty x (b or n zero) contributes nothing: dw is zero, not uninitialised.
      dw = x.numel() > 0 ? gau::ops::empty(w.shape(), w.dtype(), w.device()) : gau::ops::zeros_like(w);
      if (x.numel() > 0) run_backward_weight(x, dy, dw);
    }
    return {dx, dw};
  }
};

}  // namespace

Tensor causal_conv1d(const Tensor& x, const Tensor& w) { return CausalConv1d::apply(x, w); }

}  // namespace gau_custom
