#pragma once
// TensorRefs: how ops hand lists of tensors to the tape without copying handles.
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <vector>

#include "core/tensor.h"

namespace gau::autograd {

// A borrowed list of tensors, from a braced list `{x, w}` or a std::vector. A braced list holds
// references, so naming tensors in it copies no handle (no reference-count traffic on the hot
// path). Only as a parameter: a braced list lives until the end of the call's full expression.
class TensorRefs {
 public:
  using Ref = std::reference_wrapper<const Tensor>;
  class iterator {
   public:
    iterator(const TensorRefs* refs, size_t i) : refs_(refs), i_(i) {}
    const Tensor& operator*() const { return (*refs_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& other) const { return i_ == other.i_; }

   private:
    const TensorRefs* refs_;
    size_t i_;
  };

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"  // by design: the list outlives the call
  TensorRefs(std::initializer_list<Ref> list) : refs_(list.begin()), size_(list.size()) {}
#pragma GCC diagnostic pop
  TensorRefs(const std::vector<Tensor>& v) : tensors_(v.data()), size_(v.size()) {}  // NOLINT
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Tensor& operator[](size_t i) const { return refs_ ? refs_[i].get() : tensors_[i]; }

 private:
  const Ref* refs_ = nullptr;        // from a braced list
  const Tensor* tensors_ = nullptr;  // from a vector
  size_t size_;
};

}  // namespace gau::autograd
