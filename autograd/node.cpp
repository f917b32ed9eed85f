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
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= prune_at_ && active_walks_ == 0) {
    std::erase_if(entries_, [](const Entry& e) { return e.node.expired(); });
    prune_at_ = std::max<size_t>(1024, 2 * entries_.size());
  }
  entries_.push_back({node->seq, node});
}

int64_t Tape::find_last_at_or_before(uint64_t seq) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::upper_bound(entries_.begin(), entries_.end(), seq,
                             [](uint64_t s, const Entry& e) { return s < e.seq; });
  return static_cast<int64_t>(it - entries_.begin()) - 1;
}

std::shared_ptr<Node> Tape::at(int64_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_[static_cast<size_t>(index)].node.lock();
}

size_t Tape::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void Tape::begin_walk() {
  std::lock_guard<std::mutex> lock(mu_);
  ++active_walks_;
}

void Tape::end_walk() {
  std::lock_guard<std::mutex> lock(mu_);
  --active_walks_;
}

const std::shared_ptr<Tape>& current_tape() {
  thread_local std::shared_ptr<Tape> tape = std::make_shared<Tape>();
  return tape;
}

bool needs_record(const std::vector<Tensor>& inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

std::vector<Tensor> record_with_context(const std::vector<Tensor>& inputs, std::vector<Tensor> outputs, Context ctx,
                                        BackwardFn fn) {
  if (!needs_record(inputs)) return outputs;
  auto node = std::make_shared<Node>();
  node->name = ctx.name();
  node->seq = next_seq.fetch_add(1, std::memory_order_relaxed);
  node->tape = current_tape();

  std::vector<bool> needs(inputs.size(), false);
  node->next.resize(inputs.size());
  node->inputs.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined()) continue;
    node->inputs[i] = {x.shape(), x.dtype(), x.device()};
    if (!x.requires_grad()) continue;
    needs[i] = true;
    AutogradMeta* m = meta_if(x);
    Edge& e = node->next[i];
    if (m->grad_fn) {
      e.node = m->grad_fn;
      e.output_nr = m->output_nr;
    } else {
      e.leaf = x.impl().autograd;
      e.is_leaf = true;
    }
  }
  ctx.set_needs_input_grad(std::move(needs));
  node->ctx = std::move(ctx);
  node->fn = std::move(fn);

  node->outputs.resize(outputs.size());
  node->retained.resize(outputs.size());
  for (size_t k = 0; k < outputs.size(); ++k) {
    Tensor& y = outputs[k];
    if (!y.defined()) continue;
    node->outputs[k] = {y.shape(), y.dtype(), y.device()};
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
  node->tape->append(node);
  return outputs;
}

std::vector<Tensor> record(const std::string& name, const std::vector<Tensor>& inputs, std::vector<Tensor> outputs,
                           const std::vector<Tensor>& saved, BackwardFn fn) {
  Context ctx(name);
  ctx.set_materialize_grads(false);
  if (!saved.empty()) ctx.save_for_backward(saved);
  return record_with_context(inputs, std::move(outputs), std::move(ctx), std::move(fn));
}

Tensor record(const std::string& name, const std::vector<Tensor>& inputs, const Tensor& output,
              const std::vector<Tensor>& saved, BackwardFn fn) {
  return record(name, inputs, std::vector<Tensor>{output}, saved, std::move(fn))[0];
}

}  // namespace gau::autograd
