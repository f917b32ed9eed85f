#pragma once
// Backward: one reverse walk over the tape.
//
// Nodes are numbered in creation order, and an op's inputs always exist before it, so reverse
// creation order is already a topological order: backward walks the tape once, from the newest
// root's node down, runs each node that has received gradients (skipping the rest) and stops when
// no node is left waiting. No recursion, no sort, no per-call graph building.
//
// Gradients of a leaf accumulate in place into its .grad (across backward calls, like PyTorch;
// zero them with Tensor::zero_grad or the optimizer). Without retain_graph a node drops its saved
// tensors and closure after running; reaching it again is an error. Backward is re-entrant: a
// closure may itself call backward (checkpoint does), each call is its own task.
#include <vector>

#include "core/tensor.h"

namespace gau::autograd {

// Back-propagates from several roots at once. grad_roots[i] is d(loss)/d(roots[i]); it may be
// omitted (or undefined) for a one-element root, which then gets 1. Roots that do not require
// grad are an error unless `allow_unreachable` (checkpoint uses that for outputs independent of
// its inputs).
//
// Threads: backward runs on the calling thread. A graph recorded on another thread can be
// back-propagated once that thread has finished (it can no longer be recording on it); while it
// still runs, backward is an error naming the rule.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots = {},
              bool retain_graph = false, bool allow_unreachable = false);

// Gradient sinks (Context::grad_sink) are on by default. Off, every backward returns fresh
// gradients that the engine then adds into .grad: the path before sinks existed, which tests and
// benchmarks compare against. Per thread, like grad mode.
void set_grad_sinks_enabled(bool enabled);
bool grad_sinks_enabled();

}  // namespace gau::autograd
