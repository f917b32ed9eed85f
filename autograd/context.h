#pragma once
// What a node keeps between forward and backward: saved tensors (version-checked) and arbitrary
// attributes. Built-in ops and Function<T> custom ops both use it.
#include <any>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "autograd/inline_list.h"
#include "autograd/tensor_refs.h"
#include "core/small_vector.h"
#include "core/tensor.h"

namespace gau::autograd {

struct AutogradMeta;

// Per input of a running backward: the leaf whose allocated .grad backward may add into (null
// where there is none; held so it lives while backward writes), and whether backward used it.
// Filled by the engine, empty when no input has a sink.
struct GradSinkSlot {
  std::shared_ptr<AutogradMeta> meta;
  bool taken = false;
};
using SinkTable = InlineList<GradSinkSlot, 2>;

// A tensor kept for backward together with the version of its storage at the time it was saved.
// It keeps the tensor's own handle (no allocation), except an op's own output, which the engine
// replaces by a detached alias (Context::detach_saved_outputs) so that node and output do not own
// each other.
// Unpacking after an in-place change of the data is an error naming the op, the shape and both
// versions: the gradient would silently be computed from the wrong values.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  // `op` names the node in the error message.
  Tensor unpack(const std::string& op) const;
  bool defined() const { return data_.defined(); }
  bool is(const Tensor& t) const { return data_.defined() && data_.same(t); }
  void detach();

 private:
  Tensor data_;
  uint64_t version_ = 0;
};

class Context {
 public:
  explicit Context(std::string name = "") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string_view name) { name_.assign(name.data(), name.size()); }

  // Keeps tensors for backward (inputs, outputs or anything else; undefined tensors are allowed).
  // Calling it again replaces the previous list.
  void save_for_backward(const std::vector<Tensor>& tensors) { save_for_backward(tensors.data(), tensors.size()); }
  void save_for_backward(std::initializer_list<Tensor> tensors) { save_for_backward(tensors.begin(), tensors.size()); }
  void save_for_backward(const Tensor* tensors, size_t count);
  void save_for_backward(TensorRefs tensors);
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

  // Gradient sinks. When input i is a leaf whose .grad is already allocated with the input's
  // shape and device (a view into a model's flat gradient buffer, or an earlier backward's
  // result), backward may add input i's gradient straight into that buffer instead of returning
  // it, which saves a temporary and a pass over memory (matmul does it with a beta = 1 GEMM):
  //   Tensor g = ctx.grad_sink(1);
  //   if (g.defined()) { ops::matmul_into(g, a, d, opt, /*beta=*/1.0); ctx.used_grad_sink(1); }
  //   else d_b = ops::matmul(a, d, opt);
  // The buffer keeps its own dtype: an f32 buffer of a bf16 parameter gets the unrounded value.
  // After adding the whole gradient of input i into it, call used_grad_sink(i) and return an
  // undefined Tensor for i. grad_sink is undefined where there is no buffer, with sinks turned
  // off (autograd::set_grad_sinks_enabled), and outside backward.
  Tensor grad_sink(size_t i) const;
  void used_grad_sink(size_t i);

  // ---- used by the engine ----
  // Saved tensors that are one of `outputs` become detached aliases (see SavedTensor).
  void detach_saved_outputs(const Tensor* outputs, size_t count);
  void set_grad_sinks(SinkTable sinks) { sinks_ = std::move(sinks); }
  bool grad_sink_taken(size_t i) const { return i < sinks_.size() && sinks_[i].taken; }
  const std::shared_ptr<AutogradMeta>* sink_meta(size_t i) const {
    return i < sinks_.size() && sinks_[i].meta ? &sinks_[i].meta : nullptr;
  }
  void set_needs_input_grad(SmallVector<bool, 8> needs) { needs_input_grad_ = std::move(needs); }
  // Drops saved tensors and attributes (after a backward without retain_graph).
  void release();

 private:
  std::string name_;
  InlineList<SavedTensor, 2> saved_;
  SmallVector<bool, 8> needs_input_grad_;
  std::unordered_map<std::string, std::any> attrs_;
  bool materialize_grads_ = true;
  SinkTable sinks_;
};

}  // namespace gau::autograd
