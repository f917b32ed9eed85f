#include "core/ops/copy.h"

#include "core/ops/backend.h"
#include "core/ops/copy_kernels.h"
#include "core/ops/view.h"

namespace gau::ops {

void copy_(const Tensor& dst, const Tensor& src) {
  GAU_CHECK(dst.defined() && src.defined(), "copy_: both tensors must be defined");
  Tensor s = src.shape() == dst.shape() ? src : expand(src, dst.shape());
  if (dst.is_cuda() || src.is_cuda()) {
    GAU_CUDA_ONLY(cuda::copy_(dst, s));
  } else {
    cpu::copy_(dst, s);
  }
  dst.bump_version();
}

void fill_(const Tensor& dst, double value) {
  if (dst.is_cuda()) {
    GAU_CUDA_ONLY(cuda::fill_(dst, value));
  } else {
    cpu::fill_(dst, value);
  }
  dst.bump_version();
}

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  copy_(out, x);
  return out;
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  copy_(out, x);
  return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }

Tensor clone(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  copy_(out, x);
  return out;
}

}  // namespace gau::ops
