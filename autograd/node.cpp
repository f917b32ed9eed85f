#include "autograd/node.h"

#include <algorithm>
#include <atomic>

#include "autograd/grad_mode.h"

namespace gau::autograd {

namespace {
// Global so that sequence numbers from different threads never collide.
std::atomic<uint64_t> next_seq{1};
}  // namespace

void Tape::append(const std::shared_ptr<Node>& node) {
  if (entries_.size() >= prune_at_ && active_walks_.load(std::memory_order_relaxed) == 0) {
    std::erase_if(entries_, [](const Entry& e) { return e.node.expired(); });
    prune_at_ = std::max<size_t>(1024, 2 * entries_.size());
  }
  entries_.push_back({node->seq, node});
}

int64_t Tape::find_last_at_or_before(uint64_t seq) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), seq,
                             [](uint64_t s, const Entry& e) { return s < e.seq; });
  return static_cast<int64_t>(it - entries_.begin()) - 1;
}

std::shared_ptr<Node> Tape::at(int64_t index) const { return entries_[static_cast<size_t>(index)].node.lock(); }

size_t Tape::size() const { return entries_.size(); }

void Tape::begin_walk() { active_walks_.fetch_add(1, std::memory_order_relaxed); }

void Tape::end_walk() { active_walks_.fetch_sub(1, std::memory_order_relaxed); }

namespace {
// Owns this thread's tape; graphs keep it alive after the thread exits, marked as ownerless so
// that another thread may then back-propagate them.
struct ThreadTape {
  std::shared_ptr<Tape> tape = std::make_shared<Tape>();
  ~ThreadTape() { tape->mark_owner_exited(); }
};
}  // namespace

const std::shared_ptr<Tape>& current_tape() {
  thread_local ThreadTape holder;
  return holder.tape;
}

bool needs_record(TensorRefs inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

namespace {

// Builds the node for `inputs` and hangs `outputs[0..n)` off it. The caller checked needs_record.
void fill_info(TensorInfo& info, const Tensor& t) {
  info.shape = t.shape();
  info.dtype = t.dtype();
  info.device = t.device();
}

// A node for `inputs` whose context `fill_context(ctx)` sets up in place, with `outputs[0..n)`
// hung off it. The caller checked needs_record.
template <typename FillContext>
void record_node(TensorRefs inputs, Tensor* outputs, size_t n_outputs, FillContext&& fill_context, BackwardFn&& fn) {
  auto node = std::make_shared<Node>();
  fill_context(node->ctx);
  node->seq = next_seq.fetch_add(1, std::memory_order_relaxed);
  node->tape = current_tape();

  SmallVector<bool, 8> needs(inputs.size(), false);
  node->in.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined()) continue;
    fill_info(node->in[i].info, x);
    if (!x.requires_grad()) continue;
    needs[i] = true;
    AutogradMeta* m = meta_if(x);
    Edge& e = node->in[i].edge;
    if (m->grad_fn) {
      e.node = m->grad_fn;
      e.output_nr = m->output_nr;
    } else {
      e.leaf = x.impl().autograd;
      e.is_leaf = true;
    }
  }
  node->ctx.set_needs_input_grad(std::move(needs));
  node->fn = std::move(fn);

  node->out.resize(n_outputs);
  for (size_t k = 0; k < n_outputs; ++k) {
    Tensor& y = outputs[k];
    if (!y.defined()) continue;
    fill_info(node->out[k].info, y);
    if (!is_floating(y.dtype())) continue;
    // A kernel may hand back its input (contiguous() of a contiguous tensor) or a tensor that
    // already belongs to a graph: give this output its own handle so the other keeps its state.
    bool shared = y.impl().autograd != nullptr;
    for (const Tensor& x : inputs) shared = shared || (x.defined() && x.same(y));
    if (shared) y = alias_without_autograd(y);
    auto m = std::make_shared<AutogradMeta>();
    m->grad_fn = node;
    m->output_nr = static_cast<uint32_t>(k);
    y.impl().autograd = std::move(m);
  }
  node->ctx.detach_saved_outputs(outputs, n_outputs);
  node->tape->append(node);
}

// The context of a built-in op: its name and saved tensors, undefined gradients left as they are.
auto builtin_context(std::string_view name, TensorRefs saved) {
  return [name, saved](Context& ctx) {
    ctx.set_name(name);
    ctx.set_materialize_grads(false);
    if (!saved.empty()) ctx.save_for_backward(saved);
  };
}

}  // namespace

std::vector<Tensor> record_with_context(TensorRefs inputs, std::vector<Tensor> outputs, Context ctx, BackwardFn fn) {
  if (!needs_record(inputs)) return outputs;
  record_node(inputs, outputs.data(), outputs.size(), [&ctx](Context& c) { c = std::move(ctx); }, std::move(fn));
  return outputs;
}

std::vector<Tensor> record(std::string_view name, TensorRefs inputs, std::vector<Tensor> outputs, TensorRefs saved,
                           BackwardFn fn) {
  if (!needs_record(inputs)) return outputs;
  record_node(inputs, outputs.data(), outputs.size(), builtin_context(name, saved), std::move(fn));
  return outputs;
}

Tensor record(std::string_view name, TensorRefs inputs, Tensor output, TensorRefs saved, BackwardFn fn) {
  if (!needs_record(inputs)) return output;
  record_node(inputs, &output, 1, builtin_context(name, saved), std::move(fn));
  return output;
}

}  // namespace gau::autograd
