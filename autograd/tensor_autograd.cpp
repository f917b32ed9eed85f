// The autograd members of Tensor (declared in core/tensor.h) and the AutogradMeta helpers.
#include <atomic>

#include "autograd/engine.h"
#include "autograd/meta.h"
#include "autograd/node.h"
#include "core/ops/copy.h"
#include "core/tensor.h"

namespace gau {

namespace autograd {

AutogradMeta& meta_of(const Tensor& t) {
  auto& slot = t.impl().autograd;
  if (!slot) slot = std::make_shared<AutogradMeta>();
  return *slot;
}

namespace {
std::atomic<int64_t> hooked_leaves{0};
}  // namespace

AutogradMeta::~AutogradMeta() {
  if (!post_accumulate_hooks.empty()) hooked_leaves.fetch_sub(1, std::memory_order_relaxed);
}

int64_t hooked_leaf_count() { return hooked_leaves.load(std::memory_order_relaxed); }

void register_post_accumulate_hook(const Tensor& leaf, GradHook hook) {
  GAU_CHECK(leaf.is_leaf() && leaf.requires_grad(), "register_post_accumulate_hook: ", describe(leaf),
            " is not a leaf that requires grad");
  AutogradMeta& meta = meta_of(leaf);
  if (meta.post_accumulate_hooks.empty()) hooked_leaves.fetch_add(1, std::memory_order_relaxed);
  meta.post_accumulate_hooks.push_back(std::move(hook));
}

Tensor alias_without_autograd(const Tensor& t) {
  const TensorImpl& src = t.impl();
  return Tensor(std::make_shared<TensorImpl>(TensorImpl{src.storage, src.offset, src.shape, src.strides, src.dtype,
                                                        nullptr}));
}

}  // namespace autograd

bool Tensor::requires_grad() const {
  const autograd::AutogradMeta* m = autograd::meta_if(*this);
  return m && (m->requires_grad || m->grad_fn);
}

Tensor& Tensor::requires_grad_(bool value) {
  autograd::AutogradMeta* m = autograd::meta_if(*this);
  if (m && m->grad_fn) {
    GAU_CHECK(value, "requires_grad_(false) on ", describe(*this), ", the output of '", m->grad_fn->name(),
              "': only leaves can stop requiring grad; use detach() to cut it from the graph");
    return *this;
  }
  GAU_CHECK(!value || is_floating(dtype()), "requires_grad_: only floating tensors can require gradients, got ",
            describe(*this));
  if (!value && !m) return *this;
  autograd::meta_of(*this).requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const {
  const autograd::AutogradMeta* m = autograd::meta_if(*this);
  return m ? m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined()) {
    GAU_CHECK(g.shape() == shape(), "set_grad: gradient ", describe(g), " does not match the tensor ",
              describe(*this));
    GAU_CHECK(g.device() == device(), "set_grad: gradient ", describe(g), " is not on the device of ",
              describe(*this));
  }
  autograd::meta_of(*this).grad = g;
}

void Tensor::zero_grad() const {
  autograd::AutogradMeta* m = autograd::meta_if(*this);
  if (m && m->grad.defined()) ops::fill_(m->grad, 0.0);
}

bool Tensor::is_leaf() const {
  const autograd::AutogradMeta* m = autograd::meta_if(*this);
  return !m || !m->grad_fn;
}

void Tensor::retain_grad() const {
  autograd::AutogradMeta* m = autograd::meta_if(*this);
  GAU_CHECK(m && (m->grad_fn || m->requires_grad), "retain_grad: ", describe(*this),
            " does not require grad, so it will never receive a gradient");
  if (!m->grad_fn) return;  // leaves keep their gradient anyway
  m->retains_grad = true;
  m->grad_fn->out[m->output_nr].retained = impl().autograd;
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  autograd::backward({*this}, {grad_output}, retain_graph);
}

Tensor Tensor::detach() const { return autograd::alias_without_autograd(*this); }

}  // namespace gau
