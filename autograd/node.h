#pragma once
// The tape: nodes in creation order, and how an op records one.
//
// Every differentiable op whose inputs require grad (with grad mode on) appends a Node to the
// thread-local tape. A node has one edge per tensor input (to the node that produced it, or to the
// leaf's accumulator), its Context (saved tensors, attributes) and a backward closure. Its outputs
// own it (AutogradMeta::grad_fn) and it owns the nodes of its inputs, so a graph dies with its
// tensors. The tape itself holds weak references and sequence numbers; expired entries are pruned.
//
// Writing a differentiable op from a grad-free kernel (the pattern of every wrapper in autograd/):
//   Tensor exp(const Tensor& x /* [...] */) {
//     Tensor y = ops::exp(x);
//     if (!autograd::needs_record({x})) return y;
//     return autograd::record("exp", {x}, y, {y}, [](Context& ctx, const std::vector<Tensor>& d) {
//       return std::vector<Tensor>{ops::mul(d[0], ctx.saved(0))};
//     });
//   }
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/context.h"
#include "autograd/inline_list.h"
#include "autograd/meta.h"
#include "autograd/tensor_refs.h"

namespace gau::autograd {

class Tape;

// Backward closure: gradients of the outputs in, one gradient per input out (undefined = none).
// Runs with grad mode off. Built-in closures receive undefined tensors for outputs that got no
// gradient; Function<T> closures get zeros unless ctx.set_materialize_grads(false).
using BackwardFn = std::function<std::vector<Tensor>(Context& ctx, const std::vector<Tensor>& d_outputs)>;

struct Edge {
  std::shared_ptr<Node> node;              // producer of a non-leaf input
  uint32_t output_nr = 0;                  // which output of `node`
  std::weak_ptr<AutogradMeta> leaf;        // accumulator of a leaf input
  bool is_leaf = false;
  bool valid() const { return node != nullptr || is_leaf; }
};

struct TensorInfo {
  Shape shape;
  DType dtype = DType::f32;
  Device device;
};

// One tensor input: where its gradient goes, and what it must look like.
struct NodeInput {
  Edge edge;  // invalid when the input needs no grad
  TensorInfo info;
};

// One output: its description, the non-leaf meta that retains its gradient (retain_grad), and
// the gradient accumulated for it during the current backward call.
struct NodeOutput {
  TensorInfo info;
  std::weak_ptr<AutogradMeta> retained;
  Tensor grad;
};

struct Node {
  // User-provided, so make_shared does not zero the whole node (inline lists included) before
  // constructing it: every member has its own initialiser.
  Node() {}  // NOLINT(modernize-use-equals-default)

  const std::string& name() const { return ctx.name(); }

  uint64_t seq = 0;  // global creation order: every input node has a smaller seq
  std::shared_ptr<Tape> tape;
  InlineList<NodeInput, 2> in;    // one per tensor input, in the order backward returns gradients
  InlineList<NodeOutput, 1> out;  // one per output
  Context ctx;
  BackwardFn fn;
  bool released = false;  // ran without retain_graph: saved state is gone

  // Engine state, per backward call ("task").
  uint64_t task = 0;     // the task the `out[k].grad` belong to
  bool pending = false;  // has gradients waiting for this node to run
  uint64_t visit = 0;    // the last task whose hook scheduling reached this node
};

// Thread-local list of (seq, node) in creation order.
//
// No lock: only the thread that owns a tape appends to it (and prunes it), and backward walks a
// tape only on that thread or after that thread has exited (engine.h); walks only read.
class Tape {
 public:
  struct Entry {
    uint64_t seq;
    std::weak_ptr<Node> node;
  };
  void append(const std::shared_ptr<Node>& node);
  // Index of the last entry with seq <= `seq` (or -1).
  int64_t find_last_at_or_before(uint64_t seq) const;
  // The node at `index` (null when expired).
  std::shared_ptr<Node> at(int64_t index) const;
  size_t size() const;
  // Backward walks hold these so that pruning never moves entries under them.
  void begin_walk();
  void end_walk();
  // False once the thread that records on this tape has exited (set by its thread_local).
  bool owner_alive() const { return owner_alive_.load(std::memory_order_acquire); }
  void mark_owner_exited() { owner_alive_.store(false, std::memory_order_release); }

 private:
  std::vector<Entry> entries_;
  size_t prune_at_ = 1024;
  std::atomic<int> active_walks_{0};
  std::atomic<bool> owner_alive_{true};
};

// This thread's tape.
const std::shared_ptr<Tape>& current_tape();

// True when grad mode is on and any of `inputs` requires grad.
bool needs_record(TensorRefs inputs);

// Appends a node for an op with the given inputs (all of them, in the order backward returns
// gradients) and marks `outputs` as its results. `saved` goes to ctx.saved(). Outputs that are
// the same tensor as an input, or already carry autograd state, are replaced by fresh aliases.
// Non-floating outputs are returned as they are (they never require grad).
std::vector<Tensor> record(std::string_view name, TensorRefs inputs, std::vector<Tensor> outputs, TensorRefs saved,
                           BackwardFn fn);
Tensor record(std::string_view name, TensorRefs inputs, Tensor output, TensorRefs saved, BackwardFn fn);
// The same, with a prepared context (Function<T> fills it in forward).
std::vector<Tensor> record_with_context(TensorRefs inputs, std::vector<Tensor> outputs, Context ctx, BackwardFn fn);

}  // namespace gau::autograd
