#include "core/ops/view.h"

#include <algorithm>
#include <numeric>

#include "core/ops/copy.h"

namespace gau::ops {

namespace {

Tensor restride(const Tensor& x, int64_t offset, Shape shape, Shape strides) {
  return Tensor::make_view(x.storage(), offset, std::move(shape), std::move(strides), x.dtype());
}

Shape infer_shape(const Shape& requested, int64_t numel, const char* op, const Tensor& x) {
  Shape shape = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      GAU_CHECK(infer < 0, op, ": only one dimension can be -1, got ", requested);
      infer = static_cast<int64_t>(i);
    } else {
      GAU_CHECK(shape[i] >= 0, op, ": invalid shape ", requested);
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    GAU_CHECK(known != 0 && numel % known == 0, op, ": shape ", requested, " is invalid for ", describe(x));
    shape[infer] = numel / known;
  }
  GAU_CHECK(shape_numel(shape) == numel, op, ": shape ", requested, " is invalid for ", describe(x), " (", numel,
            " elements)");
  return shape;
}

// Strides for viewing x's layout as `shape` without a copy, if possible (PyTorch's computeStride):
// each run of merged old dims must be contiguous in memory.
bool view_strides(const Tensor& x, const Shape& shape, Shape& out) {
  const Shape& os = x.shape();
  const Shape& ost = x.strides();
  out.assign(shape.size(), 0);
  if (x.numel() == 0 || x.dim() == 0) {  // nothing to keep in step with: any layout will do
    out = contiguous_strides(shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.empty() ? 1 : ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& requested) {
  Shape shape = infer_shape(requested, x.numel(), "view", x);
  Shape strides;
  GAU_CHECK(view_strides(x, shape, strides), "view: cannot view ", describe(x), " with strides ", x.strides(),
            " as shape ", shape, " without a copy; use reshape (or contiguous first)");
  return restride(x, x.offset(), shape, strides);
}

Tensor reshape(const Tensor& x, const Shape& requested) {
  Shape shape = infer_shape(requested, x.numel(), "reshape", x);
  Shape strides;
  if (view_strides(x, shape, strides)) return restride(x, x.offset(), shape, strides);
  return view(clone(x), shape);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  GAU_CHECK(s <= e, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim, " for ", describe(x));
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x.size(d);
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  GAU_CHECK(static_cast<int64_t>(dims.size()) == x.dim(), "permute: expected ", x.dim(), " dims for ",
            describe(x), ", got ", Shape(dims));
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], x.dim(), "permute");
    GAU_CHECK(!seen[d], "permute: dim ", d, " repeated in ", Shape(dims));
    seen[d] = true;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return restride(x, x.offset(), shape, strides);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> dims(x.dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(dim0, x.dim(), "transpose")], dims[wrap_dim(dim1, x.dim(), "transpose")]);
  return permute(x, dims);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int64_t d = wrap_dim(dim, x.dim(), "narrow");
  GAU_CHECK(start >= 0 && length >= 0 && start + length <= x.size(d), "narrow: range [", start, ", ",
            start + length, ") is out of bounds for dim ", d, " of ", describe(x));
  Shape shape = x.shape();
  shape[d] = length;
  return restride(x, x.offset() + start * x.strides()[d], shape, x.strides());
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  int64_t d = wrap_dim(dim, x.dim(), "slice");
  GAU_CHECK(step > 0, "slice: step must be positive, got ", step);
  int64_t n = x.size(d);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  return restride(x, x.offset() + start * x.strides()[d], shape, strides);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int64_t d = wrap_dim(dim, x.dim(), "select");
  int64_t n = x.size(d);
  int64_t i = index < 0 ? index + n : index;
  GAU_CHECK(i >= 0 && i < n, "select: index ", index, " is out of range for dim ", d, " of ", describe(x));
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return restride(x, x.offset() + i * x.strides()[d], shape, strides);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  GAU_CHECK(static_cast<int64_t>(shape.size()) >= x.dim(), "expand: cannot expand ", describe(x), " to ", shape);
  size_t lead = shape.size() - x.shape().size();
  Shape strides(shape.size(), 0);
  for (size_t i = 0; i < x.shape().size(); ++i) {
    int64_t have = x.shape()[i], want = shape[lead + i];
    GAU_CHECK(have == want || have == 1, "expand: cannot expand ", describe(x), " to ", shape, " (dim ", lead + i,
              ": ", have, " vs ", want, ")");
    strides[lead + i] = have == want ? x.strides()[i] : 0;
  }
  return restride(x, x.offset(), shape, strides);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  int64_t st = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  return restride(x, x.offset(), shape, strides);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.size(d) != 1) return x;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return restride(x, x.offset(), shape, strides);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    GAU_CHECK(s >= 0, "split: negative size in ", Shape(sizes));
    total += s;
  }
  GAU_CHECK(total == x.size(d), "split: sizes ", Shape(sizes), " sum to ", total, " but dim ", d, " of ",
            describe(x), " has ", x.size(d));
  std::vector<Tensor> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(narrow(x, d, start, s));
    start += s;
  }
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim(), "chunk");
  GAU_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  int64_t n = x.size(d);
  int64_t each = (n + chunks - 1) / chunks;
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < n; start += each) sizes.push_back(std::min(each, n - start));
  if (sizes.empty()) sizes.push_back(0);
  return split(x, sizes, d);
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  GAU_CHECK(!xs.empty(), "cat: expected at least one tensor");
  const Tensor& first = xs[0];
  int64_t d = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = xs[i];
    GAU_CHECK(t.dim() == first.dim() && t.dtype() == first.dtype() && t.device() == first.device(),
              "cat: tensor ", i, " is ", describe(t), " but tensor 0 is ", describe(first));
    for (int64_t k = 0; k < t.dim(); ++k)
      GAU_CHECK(k == d || t.size(k) == first.size(k), "cat: tensor ", i, " has shape ", t.shape(),
                " which differs from tensor 0's ", first.shape(), " outside dim ", d);
    total += t.size(d);
  }
  shape[d] = total;
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  int64_t start = 0;
  for (const Tensor& t : xs) {
    if (t.size(d) > 0) copy_(narrow(out, d, start, t.size(d)), t);
    start += t.size(d);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  GAU_CHECK(!xs.empty(), "stack: expected at least one tensor");
  int64_t d = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (size_t i = 0; i < xs.size(); ++i) {
    GAU_CHECK(xs[i].shape() == xs[0].shape(), "stack: tensor ", i, " has shape ", xs[i].shape(),
              " but tensor 0 has ", xs[0].shape());
    expanded.push_back(unsqueeze(xs[i], d));
  }
  return cat(expanded, d);
}

}  // namespace gau::ops
