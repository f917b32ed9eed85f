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
thread_local bool sinks_enabled = true;
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

// meta.grad += g, in place (meta.grad may be a view into a flat gradient buffer). An existing
// buffer takes g converted straight to its own dtype: a bf16 parameter's f32 gradient buffer
// never sees a value rounded to bf16 on the way.
void accumulate_into_meta(AutogradMeta& meta, Tensor g, const TensorInfo& info) {
  if (!meta.grad.defined()) {
    g = convert(std::move(g), info);
    meta.grad = exclusively_owned(g) ? std::move(g) : ops::clone(g);
    return;
  }
  if (g.device() != meta.grad.device()) g = ops::to_device(g, meta.grad.device());
  if (g.dtype() != meta.grad.dtype()) g = ops::to_dtype(g, meta.grad.dtype());
  ops::binary_(ops::Binary::add, meta.grad, g);
}

// A leaf with gradient-ready hooks that this backward call can reach, and the last node (in
// walk order: the smallest seq) with an edge to it. Once the walk has passed that node, the
// leaf's gradient for this call is final and its hooks run.
struct HookedLeaf {
  std::shared_ptr<AutogradMeta> meta;
  uint64_t last_seq = 0;
  bool received = false;  // got a gradient in this call
  bool fired = false;
};

struct Task {
  uint64_t id = 0;
  Tape* tape = nullptr;
  bool retain_graph = false;
  int64_t pending = 0;   // nodes holding gradients that have not run yet
  Task* parent = nullptr;  // the call whose node's backward started this one (checkpoint), if any
  // Top-level calls only: hooked leaves in firing order (last_seq descending), and those that got
  // a gradient from no scheduled node (a nested call's leaves not listed as edges; a root leaf),
  // which fire at the end.
  std::vector<HookedLeaf> scheduled;
  size_t next_to_fire = 0;
  std::vector<std::shared_ptr<AutogradMeta>> unscheduled;
};

// The call whose node's backward is running on this thread (innermost), so that a backward
// started from inside it (checkpoint's recompute) hands its leaves' hooks up to it.
thread_local Task* running_node_task = nullptr;

void run_hooks(const std::shared_ptr<AutogradMeta>& meta) {
  for (const GradHook& hook : meta->post_accumulate_hooks) hook(meta->grad);
}

// `meta` (a leaf with hooks) received a gradient in `task`. A nested call passes it to its
// parent: a leaf reached through checkpoint's recompute is final only when the outer walk says so.
void mark_received(Task& task, const std::shared_ptr<AutogradMeta>& meta) {
  if (task.parent) return mark_received(*task.parent, meta);
  for (HookedLeaf& h : task.scheduled)
    if (h.meta == meta) {
      // Only a nested call (a checkpoint reading a leaf it was not given as a param) can reach a
      // leaf after its last edge: its hooks have already seen a gradient that was not final.
      GAU_CHECK(!h.fired, "autograd: a leaf (", describe(meta->grad),
                ") received a gradient after its gradient-ready hook ran; a checkpointed function reads it "
                "without listing it in checkpoint's `params`: list every parameter it reads there");
      h.received = true;
      return;
    }
  if (std::find(task.unscheduled.begin(), task.unscheduled.end(), meta) == task.unscheduled.end())
    task.unscheduled.push_back(meta);
}

// Finds, for every hooked leaf the roots reach, the last node with an edge to it: one pass over
// the reachable graph. Skipped when no leaf anywhere has a hook (the common inference case).
void schedule_hooks(Task& task, const std::vector<std::shared_ptr<Node>>& root_nodes) {
  if (hooked_leaf_count() == 0) return;
  std::vector<Node*> stack;
  for (const auto& n : root_nodes)
    if (n && n->visit != task.id) {
      n->visit = task.id;
      stack.push_back(n.get());
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const NodeInput& input : n->in) {
      const Edge& e = input.edge;
      if (e.is_leaf) {
        std::shared_ptr<AutogradMeta> meta = e.leaf.lock();
        if (!meta || meta->post_accumulate_hooks.empty()) continue;
        auto it = std::find_if(task.scheduled.begin(), task.scheduled.end(),
                               [&](const HookedLeaf& h) { return h.meta == meta; });
        if (it == task.scheduled.end())
          task.scheduled.push_back({std::move(meta), n->seq});
        else
          it->last_seq = std::min(it->last_seq, n->seq);
      } else if (e.node && e.node->visit != task.id) {
        e.node->visit = task.id;
        stack.push_back(e.node.get());
      }
    }
  }
  std::sort(task.scheduled.begin(), task.scheduled.end(),
            [](const HookedLeaf& a, const HookedLeaf& b) { return a.last_seq > b.last_seq; });
}

// Runs the hooks of every scheduled leaf whose last contributing node has seq >= `walked_to`
// (the walk has gone past all of its contributors), in order.
void fire_ready(Task& task, uint64_t walked_to) {
  for (; task.next_to_fire < task.scheduled.size(); ++task.next_to_fire) {
    HookedLeaf& h = task.scheduled[task.next_to_fire];
    if (h.last_seq < walked_to) break;
    if (h.received && !h.fired) {
      h.fired = true;
      run_hooks(h.meta);
    }
  }
}

void fire_remaining(Task& task) {
  fire_ready(task, 0);
  for (const auto& meta : task.unscheduled) run_hooks(meta);
}

void deliver(Task& task, const Edge& edge, const TensorInfo& info, Tensor g, const char* who) {
  if (!edge.valid() || !g.defined()) return;
  GAU_CHECK(g.shape() == info.shape, "autograd: backward of '", who, "' produced a gradient of shape ", g.shape(),
            " for an input of shape ", info.shape);
  if (edge.is_leaf) {
    std::shared_ptr<AutogradMeta> meta = edge.leaf.lock();
    if (!meta || !meta->requires_grad) return;
    accumulate_into_meta(*meta, std::move(g), info);
    if (!meta->post_accumulate_hooks.empty()) mark_received(task, meta);
    return;
  }
  Node& n = *edge.node;
  GAU_CHECK(n.tape.get() == task.tape, "autograd: the graph reaches '", n.name(),
            "', which was recorded on another thread than the rest of it; back-propagate each thread's graph "
            "separately");
  if (n.task != task.id) {
    GAU_CHECK(!(n.pending && task_active(n.task)), "autograd: '", n.name(),
              "' is part of two nested backward calls at once; a backward inside a backward closure must work on "
              "its own graph (e.g. one rebuilt from detached inputs, as checkpoint does)");
    for (NodeOutput& o : n.out) o.grad = Tensor();
    n.task = task.id;
    n.pending = false;
  }
  if (!n.pending) {
    n.pending = true;
    ++task.pending;
  }
  NodeOutput& o = n.out[edge.output_nr];
  accumulate(o.grad, convert(std::move(g), o.info));
}

// The leaves among `node`'s inputs whose .grad buffer backward may add into directly (see
// Context::grad_sink): allocated, of the input's shape and device.
SinkTable sinks_for(Node& node) {
  SinkTable sinks;
  if (!grad_sinks_enabled()) return sinks;
  for (size_t i = 0; i < node.in.size(); ++i) {
    const Edge& e = node.in[i].edge;
    if (!e.is_leaf) continue;
    std::shared_ptr<AutogradMeta> meta = e.leaf.lock();
    if (!meta || !meta->requires_grad || !meta->grad.defined()) continue;
    if (meta->grad.shape() != node.in[i].info.shape || meta->grad.device() != node.in[i].info.device) continue;
    if (sinks.empty()) sinks.resize(node.in.size());
    sinks[i].meta = std::move(meta);
  }
  return sinks;
}

void run_node(Task& task, Node& node) {
  node.pending = false;
  --task.pending;
  std::vector<Tensor> d_out(node.out.size());
  for (size_t k = 0; k < node.out.size(); ++k) d_out[k] = std::move(node.out[k].grad);
  GAU_CHECK(!node.released, "autograd: backward through '", node.name(),
            "' a second time, but its saved tensors were freed by the first backward; pass retain_graph=true to "
            "the first backward to go through the graph more than once");
  for (size_t k = 0; k < node.out.size(); ++k) {
    std::shared_ptr<AutogradMeta> meta = node.out[k].retained.lock();
    if (meta && d_out[k].defined()) accumulate_into_meta(*meta, d_out[k], node.out[k].info);
  }
  if (node.ctx.materialize_grads()) {
    for (size_t k = 0; k < d_out.size(); ++k)
      if (!d_out[k].defined())
        d_out[k] = ops::zeros(node.out[k].info.shape, node.out[k].info.dtype, node.out[k].info.device);
  }
  node.ctx.set_grad_sinks(sinks_for(node));
  std::vector<Tensor> d_in;
  {
    Task* outer = running_node_task;
    running_node_task = &task;
    struct Restore {
      Task* outer;
      Context& ctx;
      ~Restore() {
        running_node_task = outer;
        ctx.set_grad_sinks({});
      }
    } restore{outer, node.ctx};
    d_in = node.fn(node.ctx, d_out);
    d_out.clear();  // so that gradients passed straight through can be adopted without a copy
    GAU_CHECK(d_in.size() == node.in.size(), "autograd: backward of '", node.name(), "' returned ", d_in.size(),
              " gradients, expected ", node.in.size(),
              " (one per tensor input, in order; an undefined Tensor for an input without gradient)");
    for (size_t i = 0; i < d_in.size(); ++i) {
      if (!node.ctx.grad_sink_taken(i)) continue;
      GAU_CHECK(!d_in[i].defined(), "autograd: backward of '", node.name(), "' wrote input ", i,
                "'s gradient into its buffer (ctx.grad_sink) and also returned one; return an undefined Tensor "
                "for an input whose sink it used");
      const std::shared_ptr<AutogradMeta>& meta = *node.ctx.sink_meta(i);
      if (!meta->post_accumulate_hooks.empty()) mark_received(task, meta);
    }
  }
  for (size_t i = 0; i < d_in.size(); ++i)
    deliver(task, node.in[i].edge, node.in[i].info, std::move(d_in[i]), node.name().c_str());
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

void set_grad_sinks_enabled(bool enabled) { sinks_enabled = enabled; }
bool grad_sinks_enabled() { return sinks_enabled; }

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
  task.parent = running_node_task;
  GAU_CHECK(!task.tape || task.tape == current_tape().get() || !task.tape->owner_alive(), "backward: ",
            describe(roots[0]), "'s graph was recorded on another thread, which is still running and may still "
            "be recording on it; call backward on the thread that recorded the graph, or after that thread has "
            "finished");
  TaskScope scope(task.id, task.tape);
  NoGradGuard no_grad;

  std::vector<std::shared_ptr<Node>> root_nodes;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    GAU_CHECK(r.defined(), "backward: root ", i, " is an undefined tensor");
    if (!r.requires_grad()) {
      GAU_CHECK(allow_unreachable, "backward: ", describe(r),
                " does not require grad and has no grad_fn: nothing to differentiate (did it come from "
                "inputs without requires_grad, or was it computed under NoGradGuard?)");
      continue;
    }
    if (AutogradMeta* m = meta_if(r); m->grad_fn) root_nodes.push_back(m->grad_fn);
  }
  if (!task.parent) schedule_hooks(task, root_nodes);

  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    if (!r.requires_grad()) continue;
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
    if (!node) continue;
    if (node->task == task.id && node->pending) run_node(task, *node);
    fire_ready(task, node->seq);
  }
  GAU_CHECK(task.pending == 0, "autograd: ", task.pending,
            " node(s) received gradients but were not found on the tape of this graph");
  fire_remaining(task);
}

}  // namespace gau::autograd
