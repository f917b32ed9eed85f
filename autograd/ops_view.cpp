#include "autograd/ops_view.h"

#include <functional>

#include "autograd/ops_util.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"

namespace gau {

using autograd::Context;
using autograd::Grads;
using autograd::reduce_to;

namespace {

// Ops whose gradient is d_y laid back into x's shape.
Tensor record_reshape(const char* name, const Tensor& x, const Tensor& y) {
  if (!autograd::needs_record({x})) return y;
  Shape in = x.shape();
  return autograd::record(name, {x}, y, {}, [in](Context&, const Grads& d) { return Grads{ops::reshape(d[0], in)}; });
}

// Ops that pick a window of x: the gradient is zeros with d_y written into the same window.
Tensor record_window(const char* name, const Tensor& x, const Tensor& y, std::function<Tensor(const Tensor&)> window) {
  if (!autograd::needs_record({x})) return y;
  Shape in = x.shape();
  return autograd::record(name, {x}, y, {}, [in, window](Context&, const Grads& d) {
    Tensor d_x = ops::zeros(in, d[0].dtype(), d[0].device());
    ops::copy_(window(d_x), d[0]);
    return Grads{d_x};
  });
}

// One node for all pieces of x along dim (chunk, split): the gradient is their concatenation.
std::vector<Tensor> record_pieces(const char* name, const Tensor& x, std::vector<Tensor> pieces, int64_t dim) {
  if (!autograd::needs_record({x})) return pieces;
  Shape in = x.shape();
  int64_t d = wrap_dim(dim, x.dim(), name);
  std::vector<int64_t> sizes;
  for (const Tensor& p : pieces) sizes.push_back(p.size(d));
  return autograd::record(name, {x}, std::move(pieces), {}, [in, d, sizes](Context&, const Grads& g) {
    bool all = true;
    for (const Tensor& t : g) all = all && t.defined();
    if (all) return Grads{ops::cat(g, d)};
    const Tensor* any = nullptr;  // a node runs only when some piece got a gradient
    for (const Tensor& t : g)
      if (!any && t.defined()) any = &t;
    Tensor d_x = ops::zeros(in, any->dtype(), any->device());
    int64_t start = 0;
    for (size_t k = 0; k < g.size(); ++k) {
      if (g[k].defined()) ops::copy_(ops::narrow(d_x, d, start, sizes[k]), g[k]);
      start += sizes[k];
    }
    return Grads{d_x};
  });
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) { return record_reshape("view", x, ops::view(x, shape)); }
Tensor reshape(const Tensor& x, const Shape& shape) { return record_reshape("reshape", x, ops::reshape(x, shape)); }
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  return record_reshape("flatten", x, ops::flatten(x, start_dim, end_dim));
}
Tensor unsqueeze(const Tensor& x, int64_t dim) { return record_reshape("unsqueeze", x, ops::unsqueeze(x, dim)); }
Tensor squeeze(const Tensor& x, int64_t dim) { return record_reshape("squeeze", x, ops::squeeze(x, dim)); }

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor y = ops::permute(x, dims);
  if (!autograd::needs_record({x})) return y;
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    inverse[static_cast<size_t>(wrap_dim(dims[i], x.dim(), "permute"))] = static_cast<int64_t>(i);
  return autograd::record("permute", {x}, y, {},
                          [inverse](Context&, const Grads& d) { return Grads{ops::permute(d[0], inverse)}; });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  Tensor y = ops::transpose(x, dim0, dim1);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("transpose", {x}, y, {}, [dim0, dim1](Context&, const Grads& d) {
    return Grads{ops::transpose(d[0], dim0, dim1)};
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  return record_window("narrow", x, ops::narrow(x, dim, start, length),
                       [=](const Tensor& t) { return ops::narrow(t, dim, start, length); });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return record_window("slice", x, ops::slice(x, dim, start, end, step),
                       [=](const Tensor& t) { return ops::slice(t, dim, start, end, step); });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  return record_window("select", x, ops::select(x, dim, index),
                       [=](const Tensor& t) { return ops::select(t, dim, index); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor y = ops::expand(x, shape);
  if (!autograd::needs_record({x})) return y;
  Shape in = x.shape();
  return autograd::record("expand", {x}, y, {}, [in](Context&, const Grads& d) { return Grads{reduce_to(d[0], in)}; });
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  return record_pieces("chunk", x, ops::chunk(x, chunks, dim), dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  return record_pieces("split", x, ops::split(x, sizes, dim), dim);
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  Tensor y = ops::cat(xs, dim);
  if (!autograd::needs_record(xs)) return y;
  int64_t d = wrap_dim(dim, y.dim(), "cat");
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) sizes.push_back(x.size(d));
  return autograd::record("cat", xs, y, {}, [d, sizes](Context& ctx, const Grads& g) {
    Grads d_xs(sizes.size());
    int64_t start = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (ctx.needs_input_grad(i)) d_xs[i] = ops::narrow(g[0], d, start, sizes[i]);
      start += sizes[i];
    }
    return d_xs;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  Tensor y = ops::stack(xs, dim);
  if (!autograd::needs_record(xs)) return y;
  int64_t d = wrap_dim(dim, y.dim(), "stack");
  size_t n = xs.size();
  return autograd::record("stack", xs, y, {}, [d, n](Context& ctx, const Grads& g) {
    Grads d_xs(n);
    for (size_t i = 0; i < n; ++i)
      if (ctx.needs_input_grad(i)) d_xs[i] = ops::select(g[0], d, static_cast<int64_t>(i));
    return d_xs;
  });
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  Tensor y = ops::to_dtype(x, dtype);
  if (!autograd::needs_record({x})) return y;
  // d_y goes back as it is: the engine converts it to x's dtype, or for a leaf with a gradient
  // buffer straight to the buffer's dtype (a bf16 copy of a master weight never rounds d_y).
  return autograd::record("to_dtype", {x}, y, {}, [](Context&, const Grads& d) { return Grads{d[0]}; });
}

Tensor to_device(const Tensor& x, Device device) {
  Tensor y = ops::to_device(x, device);
  if (!autograd::needs_record({x})) return y;
  Device in = x.device();
  return autograd::record("to_device", {x}, y, {},
                          [in](Context&, const Grads& d) { return Grads{ops::to_device(d[0], in)}; });
}

Tensor contiguous(const Tensor& x) {
  Tensor y = ops::contiguous(x);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("contiguous", {x}, y, {}, [](Context&, const Grads& d) { return Grads{d[0]}; });
}

Tensor clone(const Tensor& x) {
  Tensor y = ops::clone(x);
  if (!autograd::needs_record({x})) return y;
  return autograd::record("clone", {x}, y, {}, [](Context&, const Grads& d) { return Grads{d[0]}; });
}

}  // namespace gau
