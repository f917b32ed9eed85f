#pragma once
// What a node keeps between forward and backward: saved tensors (version-checked) and arbitrary
// attributes. Built-in ops and Function<T> custom ops both use it.
#include <any>
#include <cstdint>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace gau::autograd {

// A tensor kept for backward together with the version of its storage at the time it was saved.
// It is stored detached (no autograd state), so saving an op's own output makes no cycle.
// Unpacking after an in-place change of the data is an error naming the op, the shape and both
// versions: the gradient would silently be computed from the wrong values.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  // `op` names the node in the error message.
  Tensor unpack(const std::string& op) const;
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
};

class Context {
 public:
  explicit Context(std::string name = "") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  // Keeps tensors for backward (inputs, outputs or anything else; undefined tensors are allowed).
  // Calling it again replaces the previous list.
  void save_for_backward(const std::vector<Tensor>& tensors);
  // The saved tensors, in order; throws if one was modified in place since it was saved.
  std::vector<Tensor> saved() const;
  Tensor saved(size_t i) const;
  size_t num_saved() const { return saved_.size(); }

  // Whether input i (the i-th Tensor argument) needs a gradient. Backward may skip the others
  // and return an undefined Tensor for them.
  bool needs_input_grad(size_t i) const { return i < needs_input_grad_.size() && needs_input_grad_[i]; }
  size_t num_inputs() const { return needs_input_grad_.size(); }

  // Arbitrary attributes for backward: ctx.set("dim", int64_t{1}); ctx.get<int64_t>("dim").
  template <typename T>
  void set(const std::string& key, T value) {
    attrs_[key] = std::move(value);
  }
  template <typename T>
  const T& get(const std::string& key) const {
    auto it = attrs_.find(key);
    GAU_CHECK(it != attrs_.end(), "autograd '", name_, "': no attribute '", key, "' was set in forward");
    const T* v = std::any_cast<T>(&it->second);
    GAU_CHECK(v != nullptr, "autograd '", name_, "': attribute '", key, "' holds a ", it->second.type().name(),
              ", asked for a ", typeid(T).name());
    return *v;
  }
  bool has(const std::string& key) const { return attrs_.count(key) != 0; }

  // Function<T> only: when true (the default), undefined output gradients (outputs that did not
  // reach the loss) are passed to backward as zeros of the output's shape; when false, as
  // undefined tensors, which backward must then handle.
  void set_materialize_grads(bool value) { materialize_grads_ = value; }
  bool materialize_grads() const { return materialize_grads_; }

  // ---- used by the engine ----
  void set_needs_input_grad(std::vector<bool> needs) { needs_input_grad_ = std::move(needs); }
  // Drops saved tensors and attributes (after a backward without retain_graph).
  void release();

 private:
  std::string name_;
  std::vector<SavedTensor> saved_;
  std::vector<bool> needs_input_grad_;
  std::unordered_map<std::string, std::any> attrs_;
  bool materialize_grads_ = true;
};

}  // namespace gau::autograd
