#pragma once
// Tensor: a cheap handle (shared ownership) to a strided view of a Storage.
//
// Everything here is grad-free metadata and data access. Differentiable operations, including
// views such as reshape and transpose, are free functions in autograd/ (gau::reshape, gau::add,
// operators + - * /); their grad-free kernels are in core/ops (gau::ops::...). The autograd
// members declared below (requires_grad, grad, backward, ...) are defined in autograd/.
#include <cstdint>
#include <memory>
#include <string>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace gau {

namespace autograd {
struct AutogradMeta;  // defined in autograd/meta.h
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;  // in elements
  DType dtype = DType::f32;
  std::shared_ptr<autograd::AutogradMeta> autograd;  // null until autograd touches it
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // A new, uninitialised, contiguous tensor.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  // A view sharing `storage`.
  static Tensor make_view(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Shape strides,
                          DType dtype);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;    // negative d counts from the end
  int64_t stride(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  size_t element_size() const { return dtype_size(dtype()); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * element_size(); }
  bool is_contiguous() const;
  bool is_cuda() const { return device().is_cuda(); }
  bool is_cpu() const { return device().is_cpu(); }

  // Address of element 0 of this view.
  void* data_ptr() const;
  template <typename T>
  T* data() const {
    GAU_CHECK(dtype_of<T>::value == dtype(), "Tensor::data<", dtype_name(dtype_of<T>::value),
              ">: tensor has dtype ", dtype_name(dtype()));
    return static_cast<T*>(data_ptr());
  }
  // The single value of a one-element tensor, copied to the host and converted.
  double item() const;

  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  TensorImpl& impl() const {
    GAU_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

  // Version of the underlying storage: bumped by every in-place op.
  uint64_t version() const { return impl().storage->version(); }
  void bump_version() const { impl().storage->bump_version(); }

  // Human-readable summary and values (elided beyond `max_per_dim` per dim).
  std::string str(int64_t max_per_dim = 6) const;

  // ---- autograd (defined in autograd/) ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool value = true);
  // Accumulated gradient of a leaf (or of a non-leaf after retain_grad()); undefined if none yet.
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void zero_grad() const;
  bool is_leaf() const;
  void retain_grad() const;
  // Back-propagates from this tensor. A non-scalar needs `grad_output` of the same shape.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;
  // Same data, cut from the graph.
  Tensor detach() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// "f32[2, 3] on cpu" — used in error messages.
std::string describe(const Tensor& t);

}  // namespace gau
