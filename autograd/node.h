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
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "autograd/context.h"
#include "autograd/meta.h"

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

struct Node {
  std::string name;
  uint64_t seq = 0;  // global creation order: every input node has a smaller seq
  std::shared_ptr<Tape> tape;
  std::vector<Edge> next;          // one per input (invalid when the input needs no grad)
  std::vector<TensorInfo> inputs;  // to check the shapes backward returns
  std::vector<TensorInfo> outputs;
  Context ctx;
  BackwardFn fn;
  bool released = false;  // ran without retain_graph: saved state is gone

  // Engine state, per backward call ("task").
  std::vector<Tensor> grads;  // accumulated gradient per output
  uint64_t task = 0;
  bool pending = false;  // has gradients waiting for this node to run
  std::vector<std::weak_ptr<AutogradMeta>> retained;  // per output: non-leaf metas with retain_grad
};

// Thread-local list of (seq, node) in creation order.
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

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  size_t prune_at_ = 1024;
  int active_walks_ = 0;
};

// This thread's tape.
const std::shared_ptr<Tape>& current_tape();

// True when grad mode is on and any of `inputs` requires grad.
bool needs_record(const std::vector<Tensor>& inputs);

// Appends a node for an op with the given inputs (all of them, in the order backward returns
// gradients) and marks `outputs` as its results. `saved` goes to ctx.saved(). Outputs that are
// the same tensor as an input, or already carry autograd state, are replaced by fresh aliases.
// Non-floating outputs are returned as they are (they never require grad).
std::vector<Tensor> record(const std::string& name, const std::vector<Tensor>& inputs, std::vector<Tensor> outputs,
                           const std::vector<Tensor>& saved, BackwardFn fn);
Tensor record(const std::string& name, const std::vector<Tensor>& inputs, const Tensor& output,
              const std::vector<Tensor>& saved, BackwardFn fn);
// The same, with a prepared context (Function<T> fills it in forward).
std::vector<Tensor> record_with_context(const std::vector<Tensor>& inputs, std::vector<Tensor> outputs, Context ctx,
                                        BackwardFn fn);

}  // namespace gau::autograd
