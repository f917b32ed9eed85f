#include "autograd/engine.h"

#include <algorithm>
#include <atomic>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"

namespace gau::autograd {

namespace {

std::atomic<uint64_t> next_task{1};
// Tasks (backward calls) running on this thread, innermost last.
thread_local std::vector<uint64_t> active_tasks;

bool task_active(uint64_t task) {
  return std::find(active_tasks.begin(), active_tasks.end(), task) != active_tasks.end();
}

// True when nobody else can see `t`'s data, so adding into it in place is safe.
bool exclusively_owned(const Tensor& t) {
  return t.impl_ptr().use_count() == 1 && t.storage().use_count() == 1 && t.is_contiguous();
}

Tensor convert(Tensor g, const TensorInfo& want) {
  if (g.dtype() != want.dtype) g = ops::to_dtype(g, want.dtype);
  if (g.device() != want.device) g = ops::to_device(g, want.device);
  return g;
}

// slot += g; in place only when the buffer is ours alone (a pass-through gradient may be shared).
void accumulate(Tensor& slot, Tensor g) {
  if (!slot.defined()) {
    slot = std::move(g);
  } else if (exclusively_owned(slot)) {
    ops::binary_(ops::Binary::add, slot, g);
  } else {
    slot = ops::add(slot, g);
  }
}

// meta.grad += g, in place (meta.grad may be a view into a flat gradient buffer).
void accumulate_into_meta(AutogradMeta& meta, Tensor g, const TensorInfo& info) {
  g = convert(std::move(g), info);
  if (!meta.grad.defined()) {
    meta.grad = exclusively_owned(g) ? std::move(g) : ops::clone(g);
  } else {
    if (meta.grad.dtype() != g.dtype()) g = ops::to_dtype(g, meta.grad.dtype());
    ops::binary_(ops::Binary::add, meta.grad, g);
  }
}

struct Task {
  uint64_t id = 0;
  Tape* tape = nullptr;
  bool retain_graph = false;
  int64_t pending = 0;  // nodes holding gradients that have not run yet
  // Leaves with hooks that received gradients, in order of their first gradient.
  std::vector<std::shared_ptr<AutogradMeta>> hooked_leaves;
};

void deliver(Task& task, const Edge& edge, const TensorInfo& info, Tensor g, const char* who) {
  if (!edge.valid() || !g.defined()) return;
  GAU_CHECK(g.shape() == info.shape, "autograd: backward of '", who, "' produced a gradient of shape ", g.shape(),
            " for an input of shape ", info.shape);
  if (edge.is_leaf) {
    std::shared_ptr<AutogradMeta> meta = edge.leaf.lock();
    if (!meta || !meta->requires_grad) return;
    accumulate_into_meta(*meta, std::move(g), info);
    if (!meta->post_accumulate_hooks.empty() &&
        std::find(task.hooked_leaves.begin(), task.hooked_leaves.end(), meta) == task.hooked_leaves.end())
      task.hooked_leaves.push_back(meta);
    return;
  }
  Node& n = *edge.node;
  GAU_CHECK(n.tape.get() == task.tape, "autograd: the graph reaches '", n.name,
            "', which was recorded on another thread than the rest of it; back-propagate each thread's graph "
            "separately");
  if (n.task != task.id) {
    GAU_CHECK(!(n.pending && task_active(n.task)), "autograd: '", n.name,
              "' is part of two nested backward calls at once; a backward inside a backward closure must work on "
              "its own graph (e.g. one rebuilt from detached inputs, as checkpoint does)");
    n.grads.assign(n.outputs.size(), Tensor());
    n.task = task.id;
    n.pending = false;
  }
  if (!n.pending) {
    n.pending = true;
    ++task.pending;
  }
  accumulate(n.grads[edge.output_nr], convert(std::move(g), n.outputs[edge.output_nr]));
}

void run_node(Task& task, Node& node) {
  node.pending = false;
  --task.pending;
  std::vector<Tensor> d_out = std::move(node.grads);
  node.grads.clear();
  GAU_CHECK(!node.released, "autograd: backward through '", node.name,
            "' a second time, but its saved tensors were freed by the first backward; pass retain_graph=true to "
            "the first backward to go through the graph more than once");
  for (size_t k = 0; k < node.retained.size(); ++k) {
    std::shared_ptr<AutogradMeta> meta = node.retained[k].lock();
    if (meta && d_out[k].defined()) accumulate_into_meta(*meta, d_out[k], node.outputs[k]);
  }
  if (node.ctx.materialize_grads()) {
    for (size_t k = 0; k < d_out.size(); ++k)
      if (!d_out[k].defined())
        d_out[k] = ops::zeros(node.outputs[k].shape, node.outputs[k].dtype, node.outputs[k].device);
  }
  std::vector<Tensor> d_in = node.fn(node.ctx, d_out);
  d_out.clear();  // so that gradients passed straight through can be adopted without a copy
  GAU_CHECK(d_in.size() == node.next.size(), "autograd: backward of '", node.name, "' returned ", d_in.size(),
            " gradients, expected ", node.next.size(),
            " (one per tensor input, in order; an undefined Tensor for an input without gradient)");
  for (size_t i = 0; i < d_in.size(); ++i)
    deliver(task, node.next[i], node.inputs[i], std::move(d_in[i]), node.name.c_str());
  if (!task.retain_graph) {
    // Saved tensors and the closure go; the edges stay: they keep the pending input nodes alive
    // while the walk reaches them (their output tensors may be long gone).
    node.ctx.release();
    node.fn = nullptr;
    node.released = true;
  }
}

class TaskScope {
 public:
  TaskScope(uint64_t id, Tape* tape) : tape_(tape) {
    active_tasks.push_back(id);
    if (tape_) tape_->begin_walk();
  }
  ~TaskScope() {
    if (tape_) tape_->end_walk();
    active_tasks.pop_back();
  }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  Tape* tape_;
};

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots, bool retain_graph,
              bool allow_unreachable) {
  GAU_CHECK(grad_roots.empty() || grad_roots.size() == roots.size(), "backward: ", roots.size(), " roots but ",
            grad_roots.size(), " root gradients");
  // The walk runs on the tape of the newest root's graph (normally this thread's).
  std::shared_ptr<Node> newest;
  for (const Tensor& r : roots) {
    AutogradMeta* m = meta_if(r);
    if (m && m->grad_fn && (!newest || m->grad_fn->seq > newest->seq)) newest = m->grad_fn;
  }
  Task task;
  task.id = next_task.fetch_add(1, std::memory_order_relaxed);
  task.tape = newest ? newest->tape.get() : nullptr;
  task.retain_graph = retain_graph;
  TaskScope scope(task.id, task.tape);
  NoGradGuard no_grad;

  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    GAU_CHECK(r.defined(), "backward: root ", i, " is an undefined tensor");
    if (!r.requires_grad()) {
      GAU_CHECK(allow_unreachable, "backward: ", describe(r),
                " does not require grad and has no grad_fn: nothing to differentiate (did it come from "
                "inputs without requires_grad, or was it computed under NoGradGuard?)");
      continue;
    }
    Tensor g = grad_roots.empty() ? Tensor() : grad_roots[i];
    if (!g.defined()) {
      GAU_CHECK(r.numel() == 1, "backward: grad_output must be given for a non-scalar output ", describe(r),
                "; pass a tensor of the same shape (d loss / d output)");
      g = ops::ones(r.shape(), r.dtype(), r.device());
    }
    GAU_CHECK(g.shape() == r.shape(), "backward: grad_output ", describe(g), " does not match the output ",
              describe(r));
    AutogradMeta* m = meta_if(r);
    Edge e;
    if (m->grad_fn) {
      e.node = m->grad_fn;
      e.output_nr = m->output_nr;
    } else {
      e.leaf = r.impl().autograd;
      e.is_leaf = true;
    }
    deliver(task, e, {r.shape(), r.dtype(), r.device()}, g, "backward");
  }
  for (int64_t idx = task.pending > 0 ? task.tape->find_last_at_or_before(newest->seq) : -1;
       idx >= 0 && task.pending > 0; --idx) {
    std::shared_ptr<Node> node = task.tape->at(idx);
    if (!node || node->task != task.id || !node->pending) continue;
    run_node(task, *node);
  }
  GAU_CHECK(task.pending == 0, "autograd: ", task.pending,
            " node(s) received gradients but were not found on the tape of this graph");
  for (const auto& meta : task.hooked_leaves)
    for (const GradHook& hook : meta->post_accumulate_hooks) hook(meta->grad);
}

}  // namespace gau::autograd
