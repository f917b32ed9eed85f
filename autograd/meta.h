#pragma once
// Per-tensor autograd state, hung off TensorImpl::autograd (null until autograd touches a tensor).
//
// A leaf (a tensor created by the user, e.g. a parameter) has requires_grad set and no grad_fn;
// gradients accumulate into `grad` in place (so `grad` may be a view into a flat gradient buffer,
// installed with Tensor::set_grad). A non-leaf is output `output_nr` of the node `grad_fn`, which
// it owns: the graph lives exactly as long as the tensors computed from it.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace gau::autograd {

struct Node;

// Called once per backward call that reached the leaf, as soon as that call's gradient for it is
// final: right after the last node with an edge to the leaf has run (e.g. to start the
// all-reduce of the leaf's gradient bucket while backward goes on with earlier layers).
using GradHook = std::function<void(const Tensor& grad)>;

struct AutogradMeta {
  bool requires_grad = false;  // leaves only; a non-leaf requires grad because it has a grad_fn
  Tensor grad;                 // accumulated gradient (leaf, or non-leaf with retains_grad)
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  bool retains_grad = false;
  std::vector<GradHook> post_accumulate_hooks;

  AutogradMeta() = default;
  AutogradMeta(const AutogradMeta&) = delete;
  AutogradMeta& operator=(const AutogradMeta&) = delete;
  ~AutogradMeta();
};

// How many live leaves have hooks: backward looks for them only when there are any.
int64_t hooked_leaf_count();

// The meta of `t`, created on first use.
AutogradMeta& meta_of(const Tensor& t);
// The meta of `t`, or null.
inline AutogradMeta* meta_if(const Tensor& t) { return t.defined() ? t.impl().autograd.get() : nullptr; }

// Runs `hook(grad)` once per backward call that accumulates into the leaf's .grad, as soon as
// that call's gradient for it is final (see GradHook). A leaf that a checkpoint reads must be
// listed in checkpoint's `params` for this to be known; otherwise it is an error.
void register_post_accumulate_hook(const Tensor& leaf, GradHook hook);

// A new handle on the same data and view, with no autograd state (what Tensor::detach returns).
Tensor alias_without_autograd(const Tensor& t);

}  // namespace gau::autograd
