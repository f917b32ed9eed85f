#include "core/ops/cpu/elementwise_iter.h"

namespace gau::ops::cpu {

StridedIter::StridedIter(const Shape& shape, std::initializer_list<Tensor> operands) {
  nops_ = static_cast<int>(operands.size());
  GAU_CHECK(nops_ >= 1 && nops_ <= kMaxOperands, "StridedIter: expected 1 to ", kMaxOperands, " operands, got ", nops_);
  numel_ = shape_numel(shape);
  const int64_t rank = static_cast<int64_t>(shape.size());

  // Byte strides of every operand aligned to `shape`, innermost dim first; 0 where broadcast.
  std::vector<std::array<int64_t, kMaxOperands>> full(rank);
  int k = 0;
  for (const Tensor& t : operands) {
    GAU_CHECK(t.dim() <= rank, "StridedIter: operand ", describe(t), " has more dims than the shape ", shape);
    base_[k] = static_cast<char*>(t.data_ptr());
    const int64_t lead = rank - t.dim();
    const int64_t es = static_cast<int64_t>(t.element_size());
    for (int64_t i = 0; i < rank; ++i) {
      int64_t stride = 0;
      if (i >= lead) {
        int64_t size = t.shape()[i - lead];
        GAU_CHECK(size == shape[i] || size == 1, "StridedIter: operand ", describe(t), " does not broadcast to ",
                  shape);
        if (size != 1) stride = t.strides()[i - lead] * es;
      }
      full[rank - 1 - i][k] = stride;
    }
    ++k;
  }

  // Drop size-1 dims; merge an outer dim into the current inner one when, for every operand,
  // stepping the outer dim equals stepping the inner one `size` times.
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = shape[rank - 1 - d];
    if (size == 1) continue;
    if (!sizes_.empty()) {
      bool mergeable = true;
      for (int j = 0; j < nops_; ++j) mergeable = mergeable && full[d][j] == strides_.back()[j] * sizes_.back();
      if (mergeable) {
        sizes_.back() *= size;
        continue;
      }
    }
    sizes_.push_back(size);
    strides_.push_back(full[d]);
  }
  if (sizes_.empty()) {
    sizes_.push_back(1);
    strides_.push_back({});
  }
}

}  // namespace gau::ops::cpu
