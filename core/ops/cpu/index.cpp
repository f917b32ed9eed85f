#include "core/ops/index_kernels.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/dispatch.h"
#include "core/ops/copy.h"
#include "core/ops/cpu/reduce_split.h"

namespace gau::ops::cpu {
namespace {

// Position of the first index outside [0, limit), or -1.
template <typename I>
int64_t first_out_of_range(const I* idx, int64_t n, int64_t limit) {
  int64_t bad = std::numeric_limits<int64_t>::max();
#pragma omp parallel for reduction(min : bad) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || static_cast<int64_t>(idx[i]) >= limit) bad = std::min(bad, i);
  return bad == std::numeric_limits<int64_t>::max() ? -1 : bad;
}

// Throws naming the op, the bad value, the limit and where it sits, when any index is out of range.
template <typename I>
void check_range(const I* idx, int64_t n, int64_t limit, const char* op, const char* what, const Tensor& indices,
                 const Tensor& table) {
  int64_t bad = first_out_of_range(idx, n, limit);
  GAU_CHECK(bad < 0, op, ": ", what, " ", static_cast<int64_t>(idx[bad]), " at position ", bad,
            " is out of range [0, ", limit, ") (", describe(table), ", indices ", describe(indices), ")");
}

// out[idx[i], :] += src[i, :] for out [V, D], src [N, D]. Deterministic and race-free: rows are
// bucketed by target with a counting sort, then each target row is summed by one thread in the
// original order of i, in acc_t<T>, and rounded once.
template <typename T, typename I>
void scatter_add_rows(T* out, int64_t V, int64_t D, const I* idx, int64_t N, const T* src) {
  using A = acc_t<T>;
  Tensor starts_t = Tensor::empty({V + 1}, DType::i64);
  Tensor order_t = Tensor::empty({std::max<int64_t>(N, 1)}, DType::i64);
  int64_t* starts = starts_t.data<int64_t>();
  int64_t* order = order_t.data<int64_t>();
  std::fill(starts, starts + V + 1, 0);
  for (int64_t i = 0; i < N; ++i) ++starts[idx[i] + 1];
  for (int64_t v = 0; v < V; ++v) starts[v + 1] += starts[v];
  {
    Tensor fill_t = Tensor::empty({V + 1}, DType::i64);
    int64_t* next = fill_t.data<int64_t>();
    std::copy(starts, starts + V + 1, next);
    for (int64_t i = 0; i < N; ++i) order[next[idx[i]]++] = i;
  }
#pragma omp parallel for schedule(dynamic, 16) if (N * D >= kParallelMin)
  for (int64_t v = 0; v < V; ++v) {
    if (starts[v] == starts[v + 1]) continue;
    T* row = out + v * D;
    for (int64_t j0 = 0; j0 < D; j0 += kInnerTile) {
      const int64_t width = std::min(kInnerTile, D - j0);
      A acc[kInnerTile];
      for (int64_t j = 0; j < width; ++j) acc[j] = static_cast<A>(row[j0 + j]);
      for (int64_t p = starts[v]; p < starts[v + 1]; ++p) {
        const T* s = src + order[p] * D + j0;
        for (int64_t j = 0; j < width; ++j) acc[j] += static_cast<A>(s[j]);
      }
      for (int64_t j = 0; j < width; ++j) row[j0 + j] = static_cast<T>(acc[j]);
    }
  }
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  Tensor w = contiguous(weight), ic = contiguous(ids);
  const int64_t V = w.size(0), d = w.size(1), n = ic.numel();
  Shape shape = ids.shape();
  shape.push_back(d);
  Tensor out = Tensor::empty(shape, w.dtype(), w.device());
  const size_t row_bytes = static_cast<size_t>(d) * w.element_size();
  const char* src = static_cast<const char*>(w.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  dispatch_index(ic.dtype(), "embedding", [&](auto tag) {
    using I = typename decltype(tag)::type;
    const I* idx = ic.data<I>();
    check_range(idx, n, V, "embedding", "id", ids, weight);
#pragma omp parallel for schedule(static) if (n * d >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * row_bytes, src + idx[i] * row_bytes, row_bytes);
  });
  return out;
}

namespace {

// index_add_ with `op` naming the public caller in errors.
void index_add_impl(const Tensor& out, const Tensor& index, const Tensor& src, const char* op) {
  Tensor target = out.is_contiguous() ? out : contiguous(out);
  Tensor s = contiguous(src), ic = contiguous(index);
  const int64_t V = out.size(0), N = ic.numel();
  const int64_t D = V ? out.numel() / V : 0;
  dispatch_index(ic.dtype(), op, [&](auto itag) {
    using I = typename decltype(itag)::type;
    const I* idx = ic.data<I>();
    check_range(idx, N, V, op, "index", index, out);
    dispatch_floating(out.dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      scatter_add_rows<T, I>(target.data<T>(), V, D, idx, N, s.data<T>());
    });
  });
  if (!target.same(out)) copy_(out, target);
}

}  // namespace

Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings) {
  const int64_t d = d_y.size(-1), n = ids.numel();
  Tensor out = Tensor::empty({num_embeddings, d}, d_y.dtype(), d_y.device());
  fill_(out, 0.0);
  Tensor ic = contiguous(ids), g = contiguous(d_y);
  index_add_impl(out, Tensor::make_view(ic.storage(), ic.offset(), {n}, {1}, ic.dtype()),
                 Tensor::make_view(g.storage(), g.offset(), {n, d}, {d, 1}, g.dtype()), "embedding_backward");
  return out;
}

void index_add_(const Tensor& out, const Tensor& index, const Tensor& src) {
  index_add_impl(out, index, src, "index_add_");
}

Tensor gather_rows(const Tensor& x, const Tensor& index) {
  const int64_t N = x.size(0), C = x.size(1);
  Tensor ic = contiguous(index);
  Tensor out = Tensor::empty({N}, x.dtype(), x.device());
  const int64_t s0 = x.stride(0), s1 = x.stride(1);
  const size_t es = x.element_size();
  const char* px = static_cast<const char*>(x.data_ptr());
  char* po = static_cast<char*>(out.data_ptr());
  dispatch_index(ic.dtype(), "gather_rows", [&](auto tag) {
    using I = typename decltype(tag)::type;
    const I* idx = ic.data<I>();
    check_range(idx, N, C, "gather_rows", "index", index, x);
    // Strided reads straight from x: one element per row, so a contiguous copy would cost more.
#pragma omp parallel for schedule(static) if (N >= kParallelMin)
    for (int64_t i = 0; i < N; ++i)
      std::memcpy(po + i * es, px + (i * s0 + static_cast<int64_t>(idx[i]) * s1) * static_cast<int64_t>(es), es);
  });
  return out;
}

}  // namespace gau::ops::cpu
