#include "core/ops/cuda/loops.cuh"

#include "core/ops/copy_kernels.h"

namespace gau::ops::cuda {

std::vector<int64_t> broadcast_strides(const Tensor& t, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t trank = t.dim();
  GAU_CHECK(trank <= rank, "cuda: cannot broadcast ", describe(t), " to ", shape_str(shape));
  std::vector<int64_t> out(rank, 0);
  for (int64_t d = 0; d < trank; ++d) {
    int64_t od = rank - trank + d;
    int64_t size = t.shape()[d];
    GAU_CHECK(size == shape[od] || size == 1, "cuda: cannot broadcast ", describe(t), " to ", shape_str(shape));
    out[od] = (size == 1 && shape[od] != 1) ? 0 : t.strides()[d];
  }
  return out;
}

template <int N>
OffsetCalc<N> make_offset_calc(const Shape& shape, const std::array<std::vector<int64_t>, N>& strides) {
  // Drop size-1 dims, then merge dim d into d-1 when every operand walks them as one dim.
  std::vector<int64_t> sizes;
  std::array<std::vector<int64_t>, N> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !sizes.empty();
    for (int k = 0; k < N && merge; ++k) merge = st[k].back() == strides[k][d] * shape[d];
    if (merge) {
      sizes.back() *= shape[d];
      for (int k = 0; k < N; ++k) st[k].back() = strides[k][d];
    } else {
      sizes.push_back(shape[d]);
      for (int k = 0; k < N; ++k) st[k].push_back(strides[k][d]);
    }
  }
  GAU_CHECK(sizes.size() <= size_t(kMaxDims), "cuda elementwise: shape ", shape_str(shape), " needs ", sizes.size(),
            " dims after merging contiguous ones; at most ", kMaxDims, " are supported (make inputs contiguous)");
  OffsetCalc<N> c;
  c.ndim = static_cast<int>(sizes.size());
  for (int d = 0; d < kMaxDims; ++d) {
    c.sizes[d] = d < c.ndim ? sizes[d] : 1;
    for (int k = 0; k < N; ++k) c.strides[k][d] = d < c.ndim ? st[k][d] : 0;
  }
  return c;
}

template OffsetCalc<1> make_offset_calc<1>(const Shape&, const std::array<std::vector<int64_t>, 1>&);
template OffsetCalc<2> make_offset_calc<2>(const Shape&, const std::array<std::vector<int64_t>, 2>&);
template OffsetCalc<3> make_offset_calc<3>(const Shape&, const std::array<std::vector<int64_t>, 3>&);
template OffsetCalc<4> make_offset_calc<4>(const Shape&, const std::array<std::vector<int64_t>, 4>&);

Tensor expand_view(const Tensor& t, const Shape& shape) {
  return Tensor::make_view(t.storage(), t.offset(), shape, broadcast_strides(t, shape), t.dtype());
}

Tensor contiguous_on_device(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
  copy_(out, t);
  return out;
}

}  // namespace gau::ops::cuda
