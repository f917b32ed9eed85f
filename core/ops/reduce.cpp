#include "core/ops/reduce.h"

#include <algorithm>

#include "core/ops/backend.h"
#include "core/ops/reduce_kernels.h"

namespace gau::ops {
namespace {

void check_float(const Tensor& x, const char* op) {
  GAU_CHECK(is_floating(x.dtype()), op, ": expected a floating tensor (f32, f64, bf16, f16), got ", describe(x));
}

// Wrapped, sorted, unique dims; empty means every dim (and a scalar has none to reduce).
std::vector<int64_t> normalize_dims(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) {
    GAU_CHECK(d >= -x.dim() && d < std::max<int64_t>(x.dim(), 1), op, ": dim ", d, " is out of range for ",
              describe(x));
    out.push_back(x.dim() == 0 ? 0 : (d < 0 ? d + x.dim() : d));
  }
  std::sort(out.begin(), out.end());
  GAU_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": dims ", dims,
            " name the same dim twice, for ", describe(x));
  if (x.dim() == 0) out.clear();  // a scalar has nothing to reduce
  return out;
}

int64_t normalize_dim(const Tensor& x, int64_t dim, const char* op) {
  GAU_CHECK(dim >= -x.dim() && dim < std::max<int64_t>(x.dim(), 1), op, ": dim ", dim, " is out of range for ",
            describe(x));
  return x.dim() == 0 ? 0 : (dim < 0 ? dim + x.dim() : dim);
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_float(x, "sum");
  std::vector<int64_t> d = normalize_dims(x, dims, "sum");
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::sum(x, d, keepdim)); }
  return cpu::sum(x, d, keepdim);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_float(x, "mean");
  std::vector<int64_t> d = normalize_dims(x, dims, "mean");
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::mean(x, d, keepdim)); }
  return cpu::mean(x, d, keepdim);
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  check_float(x, "var");
  GAU_CHECK(correction >= 0, "var: correction must be >= 0, got ", correction, " for ", describe(x));
  std::vector<int64_t> d = normalize_dims(x, dims, "var");
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::var(x, d, correction, keepdim)); }
  return cpu::var(x, d, correction, keepdim);
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  check_float(x, "max");
  int64_t d = normalize_dim(x, dim, "max");
  GAU_CHECK(x.dim() == 0 || x.size(d) > 0, "max: cannot reduce an empty dim ", dim, " of ", describe(x));
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::max(x, d, keepdim)); }
  return cpu::max(x, d, keepdim);
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  check_float(x, "argmax");
  int64_t d = normalize_dim(x, dim, "argmax");
  GAU_CHECK(x.dim() == 0 || x.size(d) > 0, "argmax: cannot reduce an empty dim ", dim, " of ", describe(x));
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::argmax(x, d, keepdim)); }
  return cpu::argmax(x, d, keepdim);
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  check_float(x, "logsumexp");
  int64_t d = normalize_dim(x, dim, "logsumexp");
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::logsumexp(x, d, keepdim)); }
  return cpu::logsumexp(x, d, keepdim);
}

Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive) {
  check_float(x, "cumsum");
  int64_t d = normalize_dim(x, dim, "cumsum");
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::cumsum(x, d, exclusive)); }
  return cpu::cumsum(x, d, exclusive);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_float(x, "sum_to");
  GAU_CHECK(shape.size() <= x.shape().size(), "sum_to: cannot sum ", describe(x), " to the larger rank shape ",
            shape);
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const int64_t want = shape[d - lead];
    GAU_CHECK(want == x.size(d) || want == 1, "sum_to: shape ", shape, " does not broadcast to ", describe(x),
              " (dim ", d, ": ", want, " vs ", x.size(d), ")");
    if (want == 1 && x.size(d) != 1) dims.push_back(d);
  }
  if (dims.empty()) return x;  // shape == x.shape()
  Tensor r = sum(x, dims, true);  // contiguous, rank of x
  return Tensor::make_view(r.storage(), r.offset(), shape, contiguous_strides(shape), r.dtype());
}

}  // namespace gau::ops
