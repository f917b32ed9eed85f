#include "autograd/context.h"

#include "autograd/meta.h"

namespace gau::autograd {

SavedTensor::SavedTensor(const Tensor& t) {
  if (!t.defined()) return;
  data_ = t;
  version_ = t.version();
}

void SavedTensor::detach() { data_ = alias_without_autograd(data_); }

void Context::detach_saved_outputs(const Tensor* outputs, size_t count) {
  for (SavedTensor& s : saved_)
    for (size_t k = 0; k < count; ++k)
      if (s.is(outputs[k])) s.detach();
}

Tensor SavedTensor::unpack(const std::string& op) const {
  if (!data_.defined()) return data_;
  GAU_CHECK(data_.version() == version_, "autograd: a tensor saved by '", op, "' for backward (", describe(data_),
            ") was modified in place after it was saved: saved at version ", version_, ", now at version ",
            data_.version(), ". Modify a clone instead, or do the in-place change before the op.");
  return data_;
}

void Context::save_for_backward(const Tensor* tensors, size_t count) {
  saved_.resize(count);
  for (size_t i = 0; i < count; ++i) saved_[i] = SavedTensor(tensors[i]);
}

void Context::save_for_backward(TensorRefs tensors) {
  saved_.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) saved_[i] = SavedTensor(tensors[i]);
}

std::vector<Tensor> Context::saved() const {
  std::vector<Tensor> out;
  out.reserve(saved_.size());
  for (const SavedTensor& s : saved_) out.push_back(s.unpack(name_));
  return out;
}

Tensor Context::saved(size_t i) const {
  GAU_CHECK(i < saved_.size(), "autograd '", name_, "': saved tensor ", i, " asked for, but only ", saved_.size(),
            " were saved");
  return saved_[i].unpack(name_);
}

Tensor Context::grad_sink(size_t i) const {
  const std::shared_ptr<AutogradMeta>* meta = sink_meta(i);
  return meta ? (*meta)->grad : Tensor();
}

void Context::used_grad_sink(size_t i) {
  GAU_CHECK(sink_meta(i) != nullptr, "autograd '", name_, "': used_grad_sink(", i,
            ") but input ", i, " has no gradient sink (check ctx.grad_sink(i).defined() first)");
  sinks_[i].taken = true;
}

void Context::release() {
  saved_.clear();
  attrs_.clear();
}

}  // namespace gau::autograd
