#include "core/tensor.h"

#include <cstdio>
#include <sstream>

#include "core/ops/copy.h"

namespace gau {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) GAU_CHECK(d >= 0, "Tensor::empty: negative dimension in shape ", shape);
  // Filled in place rather than through make_view: this is on every kernel's path.
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::make_view(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Shape strides, DType dtype) {
  GAU_CHECK(shape.size() == strides.size(), "Tensor::make_view: shape ", shape, " and strides ", strides,
            " have different ranks");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "Tensor::size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "Tensor::stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  const Shape& sh = shape();
  const Shape& st = strides();
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;  // the stride of a size-1 dim never matters
    if (st[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * static_cast<int64_t>(element_size());
}

double Tensor::item() const {
  GAU_CHECK(numel() == 1, "Tensor::item: expected a tensor with one element, got ", describe(*this));
  Tensor host = ops::to_dtype(ops::to_device(*this, Device::cpu()), DType::f64);
  return *static_cast<const double*>(host.data_ptr());
}

namespace {

void print_values(std::ostringstream& os, const double* data, const Shape& shape, const Shape& strides, size_t d,
                  int64_t max_per_dim, bool integral) {
  if (shape.empty()) {
    os << data[0];
    return;
  }
  os << '[';
  int64_t n = shape[d];
  for (int64_t i = 0; i < n; ++i) {
    if (n > max_per_dim && i == max_per_dim / 2) {
      os << "..., ";
      i = n - max_per_dim / 2 - 1;
      continue;
    }
    const double* p = data + i * strides[d];
    if (d + 1 == shape.size()) {
      char buf[32];
      if (integral)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(*p));
      else
        std::snprintf(buf, sizeof buf, "%.6g", *p);
      os << buf;
    } else {
      print_values(os, p, shape, strides, d + 1, max_per_dim, integral);
    }
    if (i + 1 < n) os << (d + 1 == shape.size() ? ", " : ",\n ");
  }
  os << ']';
}

}  // namespace

std::string Tensor::str(int64_t max_per_dim) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(" << describe(*this) << ")\n";
  Tensor host = ops::contiguous(ops::to_dtype(ops::to_device(*this, Device::cpu()), DType::f64));
  print_values(os, static_cast<const double*>(host.data_ptr()), host.shape(), host.strides(), 0, max_per_dim,
               !is_floating(dtype()));
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined tensor";
  return std::string(dtype_name(t.dtype())) + shape_str(t.shape()) + " on " + t.device().str();
}

}  // namespace gau
