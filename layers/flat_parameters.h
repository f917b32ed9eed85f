#pragma once
// Flat parameter and gradient buffers.
//
// FlatParameters(model) moves every parameter of `model` into ONE contiguous buffer per
// (dtype, device), in registration order, and rebinds each parameter in place as a view into it
// (layers/rebind.h: PyTorch's p.data = flat[off:off+n].view_as(p)). Each group also gets ONE
// gradient buffer, zeroed, with each parameter's .grad installed as the view at the same offset
// (Tensor::set_grad). Backward then accumulates into those views in place, and matmul writes a
// weight's gradient straight into its view with a beta = 1 GEMM (the gradient sink,
// autograd/context.h), so an optimizer and an all-reduce work on a few large contiguous blocks.
//
//   FlatParameters flat(model, {.grad_dtype = DType::f32});   // bf16 weights, f32 gradients
//   for (const FlatGroup& g : flat.groups()) update(g.params, g.grads);   // [numel] each
//   flat.zero_grad();                                                      // one fill per group
//
// Layout: each parameter starts at an offset that is a multiple of 64 bytes in both buffers
// (the allocators return 64-byte aligned memory), so a fused optimizer's vectorised loads of a
// parameter's range never straddle a cache line at its start and need no scalar prologue. The
// gaps are zero in both buffers, and an elementwise optimizer keeps them zero.
//
// Buffers (RoPE tables, ...) are not parameters and stay out, so the parameter storage's version
// counter moves only when parameters are updated.
//
// Well-defined re-flattening: flattening again (a new FlatParameters on the same model) copies
// the current values and any gradients into new buffers and rebinds again; the old object's
// buffers keep their data but no parameter views them any more (bound() turns false).
// Module::to() likewise gives each parameter its own storage; flatten after moving a model.
// Flatten with no graph alive: a graph recorded before fails its version check on backward.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/module.h"

namespace gau::layers {

inline constexpr int64_t kFlatAlignmentBytes = 64;

struct FlatOptions {
  // The gradient buffers' dtype: each group's own when unset; f32 for f32/bf16/f16 groups (a
  // bf16 model with f32 gradients, which matmul's sink fills without rounding).
  std::optional<DType> grad_dtype;
  // Each group's buffers are padded (with zeros) to a multiple of `shards` × the alignment, so
  // they split into `shards` equal, aligned pieces: ZeRO-1's one shard per rank
  // (distributed/zero.h).
  int64_t shards = 1;
};

struct FlatEntry {
  std::string name;    // hierarchical parameter name
  Tensor param;        // the parameter (a view of the group's params)
  int64_t offset = 0;  // in elements, in params and grads alike
  int64_t numel = 0;
};

struct FlatGroup {
  DType dtype = DType::f32;
  Device device;
  Tensor params;                   // [total] the whole parameter buffer
  Tensor grads;                    // [total] the whole gradient buffer (grad_dtype)
  std::vector<FlatEntry> entries;  // in registration order
  // Elements up to the last parameter's aligned end: `total` without FlatOptions::shards'
  // padding, so the same model has the same packed size whatever the number of shards.
  int64_t packed = 0;
};

class FlatParameters {
 public:
  FlatParameters() = default;
  explicit FlatParameters(const Module& model, const FlatOptions& options = {});

  const std::vector<FlatGroup>& groups() const { return groups_; }
  // Zeroes every gradient buffer: one fill per group.
  void zero_grad() const;
  // Whether every parameter still views its group's buffers and its .grad the gradient buffer.
  bool bound() const;

 private:
  std::vector<FlatGroup> groups_;
};

}  // namespace gau::layers
