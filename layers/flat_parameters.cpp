#include "layers/flat_parameters.h"

#include <algorithm>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/rebind.h"

namespace gau::layers {

namespace {

// Element alignment that puts an offset at a multiple of 64 bytes in both buffers.
int64_t alignment_elements(DType params, DType grads) {
  const int64_t smallest = static_cast<int64_t>(std::min(dtype_size(params), dtype_size(grads)));
  return kFlatAlignmentBytes / smallest;
}

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

Tensor window(const Tensor& flat, int64_t offset, const Shape& shape) {
  return Tensor::make_view(flat.storage(), offset, shape, contiguous_strides(shape), flat.dtype());
}

}  // namespace

FlatParameters::FlatParameters(const Module& model, const FlatOptions& options) {
  GAU_CHECK(options.shards >= 1, "FlatParameters (", model.where(), "): shards must be >= 1, got ", options.shards);
  // Group the parameters by (dtype, device), in order of first appearance.
  for (const auto& [name, p] : model.named_parameters()) {
    auto it = std::find_if(groups_.begin(), groups_.end(),
                           [&](const FlatGroup& g) { return g.dtype == p.dtype() && g.device == p.device(); });
    if (it == groups_.end()) {
      groups_.push_back({p.dtype(), p.device(), Tensor(), Tensor(), {}});
      it = groups_.end() - 1;
    }
    it->entries.push_back({name, p, 0, p.numel()});
  }
  for (FlatGroup& g : groups_) {
    const DType grad_dtype = options.grad_dtype.value_or(g.dtype);
    GAU_CHECK(grad_dtype == g.dtype || (grad_dtype == DType::f32 && (g.dtype == DType::bf16 || g.dtype == DType::f16)),
              "FlatParameters (", model.where(), "): gradients of ", dtype_name(g.dtype), " parameters can be ",
              dtype_name(g.dtype), (g.dtype == DType::bf16 || g.dtype == DType::f16 ? " or f32" : ""), ", not ",
              dtype_name(grad_dtype));
    const int64_t align = alignment_elements(g.dtype, grad_dtype);
    int64_t total = 0;
    for (FlatEntry& e : g.entries) {
      e.offset = total;
      total = round_up(total + e.numel, align);
    }
    g.packed = total;
    total = round_up(total, align * options.shards);
    g.params = ops::zeros({total}, g.dtype, g.device);
    g.grads = ops::zeros({total}, grad_dtype, g.device);
    for (FlatEntry& e : g.entries) {
      const Tensor p_view = window(g.params, e.offset, e.param.shape());
      const Tensor g_view = window(g.grads, e.offset, e.param.shape());
      ops::copy_(p_view, e.param);
      const Tensor old_grad = e.param.grad();
      if (old_grad.defined()) ops::copy_(g_view, old_grad);
      rebind(e.param, p_view);
      e.param.set_grad(g_view);
    }
  }
}

void FlatParameters::zero_grad() const {
  for (const FlatGroup& g : groups_) ops::fill_(g.grads, 0.0);
}

bool FlatParameters::bound() const {
  for (const FlatGroup& g : groups_) {
    for (const FlatEntry& e : g.entries) {
      const Tensor grad = e.param.grad();
      if (e.param.storage() != g.params.storage() || e.param.offset() != e.offset || !e.param.is_contiguous())
        return false;
      if (!grad.defined() || grad.storage() != g.grads.storage() || grad.offset() != e.offset) return false;
    }
  }
  return true;
}

}  // namespace gau::layers
