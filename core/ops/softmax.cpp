#include "core/ops/softmax.h"

#include "core/ops/backend.h"
#include "core/ops/softmax_kernels.h"

namespace gau::ops {
namespace {

int64_t check_forward(const Tensor& x, int64_t dim, const char* op) {
  GAU_CHECK(is_floating(x.dtype()), op, ": expected a floating tensor (f32, f64, bf16, f16), got ", describe(x));
  GAU_CHECK(dim >= -x.dim() && dim < std::max<int64_t>(x.dim(), 1), op, ": dim ", dim, " is out of range for ",
            describe(x));
  return x.dim() == 0 ? 0 : (dim < 0 ? dim + x.dim() : dim);
}

int64_t check_backward(const Tensor& y, const Tensor& d_y, int64_t dim, const char* op) {
  int64_t d = check_forward(y, dim, op);
  GAU_CHECK(d_y.shape() == y.shape() && d_y.dtype() == y.dtype() && d_y.device() == y.device(), op,
            ": d_y must match y, got y ", describe(y), " and d_y ", describe(d_y));
  return d;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  int64_t d = check_forward(x, dim, "softmax");
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::softmax(x, d)); }
  return cpu::softmax(x, d);
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  int64_t d = check_forward(x, dim, "log_softmax");
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::log_softmax(x, d)); }
  return cpu::log_softmax(x, d);
}

Tensor softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim) {
  int64_t d = check_backward(y, d_y, dim, "softmax_backward");
  if (y.is_cuda()) { GAU_CUDA_ONLY(return cuda::softmax_backward(y, d_y, d)); }
  return cpu::softmax_backward(y, d_y, d);
}

Tensor log_softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim) {
  int64_t d = check_backward(y, d_y, dim, "log_softmax_backward");
  if (y.is_cuda()) { GAU_CUDA_ONLY(return cuda::log_softmax_backward(y, d_y, d)); }
  return cpu::log_softmax_backward(y, d_y, d);
}

}  // namespace gau::ops
