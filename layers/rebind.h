#pragma once
// Rebinding a tensor's data in place, as PyTorch's `p.data = source` does.
//
// A Tensor is a handle to a shared TensorImpl, and layers hold their parameters as plain members
// (`Tensor weight_`). Moving a parameter to another device or into a flat buffer must therefore
// change the TensorImpl itself (storage, offset, strides, dtype), not hand out a new handle:
// every copy of the handle, the autograd state (requires_grad, .grad, hooks) and the graph edges
// that point at it stay valid.
#include "core/tensor.h"

namespace gau::layers {

// Points `t`'s view at `source`'s data (storage, offset, strides and dtype; the shapes must be
// equal). `source` itself is not changed.
//
// Saved tensors: autograd keeps a saved input by its handle and checks its storage's version on
// backward. After a rebind that handle reads the new storage, so the new storage's version is
// lifted above the old one's: a graph recorded before the rebind then fails that check loudly on
// backward ("modified in place after it was saved") instead of running on rebound data.
void rebind(const Tensor& t, const Tensor& source);

}  // namespace gau::layers
