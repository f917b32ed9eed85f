#include "autograd/ops_util.h"

#include "core/ops/reduce.h"
#include "core/ops/view.h"

namespace gau::autograd {

Tensor reduce_to(const Tensor& g, const Shape& shape) {
  if (!g.defined() || g.shape() == shape) return g;
  return ops::sum_to(g, shape);
}

Shape keepdim_shape(const Shape& in, const std::vector<int64_t>& dims, const char* op) {
  Shape out = in;
  if (dims.empty()) {
    for (int64_t& s : out) s = 1;
    return out;
  }
  for (int64_t d : dims) out[static_cast<size_t>(wrap_dim(d, static_cast<int64_t>(in.size()), op))] = 1;
  return out;
}

Tensor expand_reduced(const Tensor& d_y, const Shape& in, const std::vector<int64_t>& dims, const char* op) {
  return ops::expand(ops::reshape(d_y, keepdim_shape(in, dims, op)), in);
}

}  // namespace gau::autograd
