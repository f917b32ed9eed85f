#include "core/ops/reduce_kernels.h"

#include <cmath>
#include <limits>

#include "core/dispatch.h"
#include "core/ops/copy.h"
#include "core/ops/cpu/reduce_split.h"
#include "core/ops/view.h"

namespace gau::ops::cpu {
namespace {

// Every floating type sums in double here: reductions are memory-bound, so the wider
// accumulator costs nothing measurable and keeps long f32/bf16 sums accurate.
// Rows longer than this are cut into chunks summed in parallel, then combined in a fixed order
// (the chunking does not depend on the thread count, so results are reproducible).
constexpr int64_t kChunk = 8192;

// x laid out as [outer, r, inner] with the reduced dims collapsed into r.
struct Arranged {
  Tensor x;  // contiguous
  int64_t outer = 1, r = 1, inner = 1;
  Shape out_shape;  // keepdim or not, as asked
};

Arranged arrange(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const int64_t rank = x.dim();
  std::vector<bool> reduced(rank, false);
  for (int64_t d : dims) reduced[d] = true;
  Arranged a;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d]) a.out_shape.push_back(x.size(d));
    else if (keepdim) a.out_shape.push_back(1);
  }
  // Size-1 dims are free to move, so only dims of size > 1 decide whether the reduced ones form
  // one block [outer, r, inner] that needs no permutation.
  int64_t first = -1, last = -1;  // first and last reduced dim of size > 1
  bool block = true;
  bool kept_since_last = false;  // a kept dim of size > 1 after the last reduced one
  for (int64_t d = 0; d < rank; ++d) {
    if (x.size(d) == 1) continue;
    if (reduced[d]) {
      if (first >= 0 && kept_since_last) block = false;
      if (first < 0) first = d;
      last = d;
      kept_since_last = false;
    } else if (first >= 0) {
      kept_since_last = true;
    }
  }
  if (block) {
    a.x = contiguous(x);
    for (int64_t d = 0; d < rank; ++d) {
      if (reduced[d]) a.r *= x.size(d);
      else if (first >= 0 && d > last) a.inner *= x.size(d);
      else a.outer *= x.size(d);
    }
    return a;
  }
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d]) perm.push_back(d), a.outer *= x.size(d);
  for (int64_t d : dims) perm.push_back(d), a.r *= x.size(d);
  a.x = contiguous(permute(x, perm));
  return a;
}

// sum of f(p[i]) over a contiguous run, in double with eight independent lanes.
template <typename T, typename F>
double run_sum(const T* p, int64_t n, F f) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += f(static_cast<double>(p[i + j]));
  for (; i < n; ++i) acc[0] += f(static_cast<double>(p[i]));
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// For every output element j = o * inner + i: fin(j, sum_k map(j, x[o, k, i])).
//   x [outer, r, inner]
template <typename T, typename Map, typename Fin>
void reduce_rows(const T* x, int64_t outer, int64_t r, int64_t inner, Map map, Fin fin) {
  const int64_t tiles = (inner + kInnerTile - 1) / kInnerTile;
  const int64_t items = outer * tiles;
  // Too little parallelism across outputs: split the reduced axis into fixed chunks.
  const int64_t chunks = (items >= 64 || r <= kChunk) ? 1 : (r + kChunk - 1) / kChunk;
  const int64_t chunk_len = (r + chunks - 1) / chunks;
  Tensor partial;  // [outer * inner, chunks]
  double* part = nullptr;
  if (chunks > 1) {
    partial = Tensor::empty({outer * inner, chunks}, DType::f64);
    part = partial.data<double>();
  }
#pragma omp parallel for schedule(static) if (outer * r * inner >= kParallelMin)
  for (int64_t w = 0; w < items * chunks; ++w) {
    const int64_t item = w / chunks, c = w % chunks;
    const int64_t o = item / tiles, i0 = (item % tiles) * kInnerTile;
    const int64_t k0 = c * chunk_len, k1 = std::min(r, k0 + chunk_len);
    const int64_t width = std::min(kInnerTile, inner - i0);
    if (inner == 1) {
      const int64_t j = o;
      double s = run_sum(x + o * r + k0, k1 - k0, [&](double v) { return map(j, v); });
      if (part) part[j * chunks + c] = s;
      else fin(j, s);
      continue;
    }
    double acc[kInnerTile];
    for (int64_t i = 0; i < width; ++i) acc[i] = 0;
    for (int64_t k = k0; k < k1; ++k) {
      const T* row = x + (o * r + k) * inner + i0;
      for (int64_t i = 0; i < width; ++i) acc[i] += map(o * inner + i0 + i, static_cast<double>(row[i]));
    }
    for (int64_t i = 0; i < width; ++i) {
      const int64_t j = o * inner + i0 + i;
      if (part) part[j * chunks + c] = acc[i];
      else fin(j, acc[i]);
    }
  }
  if (part) {
#pragma omp parallel for schedule(static) if (outer * inner * chunks >= kParallelMin)
    for (int64_t j = 0; j < outer * inner; ++j) {
      double s = 0;
      for (int64_t c = 0; c < chunks; ++c) s += part[j * chunks + c];
      fin(j, s);
    }
  }
}

// out = scale * sum over the reduced dims.
Tensor scaled_sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, bool mean) {
  Arranged a = arrange(x, dims, keepdim);
  Tensor out = Tensor::empty(a.out_shape, x.dtype(), x.device());
  dispatch_floating(x.dtype(), "sum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* y = out.data<T>();
    const double scale = mean ? 1.0 / static_cast<double>(a.r) : 1.0;
    reduce_rows(
        a.x.data<T>(), a.outer, a.r, a.inner, [](int64_t, double v) { return v; },
        [&](int64_t j, double s) { y[j] = static_cast<T>(s * scale); });
  });
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return scaled_sum(x, dims, keepdim, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return scaled_sum(x, dims, keepdim, true);
}

// Two passes (mean, then squared deviations) rather than a one-pass formula, which cancels badly.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  Arranged a = arrange(x, dims, keepdim);
  Tensor out = Tensor::empty(a.out_shape, x.dtype(), x.device());
  Tensor means = Tensor::empty({a.outer * a.inner}, DType::f64);
  double* mu = means.data<double>();
  const double inv_r = 1.0 / static_cast<double>(a.r);
  const double denom = static_cast<double>(std::max<int64_t>(a.r - correction, 0));
  dispatch_floating(x.dtype(), "var", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = a.x.data<T>();
    T* y = out.data<T>();
    reduce_rows(
        px, a.outer, a.r, a.inner, [](int64_t, double v) { return v; },
        [&](int64_t j, double s) { mu[j] = s * inv_r; });
    reduce_rows(
        px, a.outer, a.r, a.inner,
        [&](int64_t j, double v) {
          double d = v - mu[j];
          return d * d;
        },
        [&](int64_t j, double s) { y[j] = static_cast<T>(s / denom); });
  });
  return out;
}

namespace {

Shape reduced_shape(const Tensor& x, int64_t dim, bool keepdim) {
  Shape s = x.shape();
  if (s.empty()) return s;
  if (keepdim) s[dim] = 1;
  else s.erase(s.begin() + dim);
  return s;
}

// Max and argmax along one dim in one pass; NaN wins (and its first index), as in PyTorch.
template <typename T>
void max_along(const Tensor& xc, int64_t dim, T* vals, int64_t* idx) {
  DimSplit s = split_at(xc.shape(), dim);
  const T* x = xc.data<T>();
  for_each_tile(s, [&](int64_t o, int64_t i0, int64_t width) {
    using A = acc_t<T>;
    A best[kInnerTile];
    int64_t arg[kInnerTile];
    for (int64_t i = 0; i < width; ++i) best[i] = static_cast<A>(x[o * s.n * s.inner + i0 + i]), arg[i] = 0;
    for (int64_t k = 1; k < s.n; ++k) {
      const T* row = x + (o * s.n + k) * s.inner + i0;
      for (int64_t i = 0; i < width; ++i) {
        A v = static_cast<A>(row[i]);
        if (v > best[i] || (v != v && best[i] == best[i])) best[i] = v, arg[i] = k;
      }
    }
    for (int64_t i = 0; i < width; ++i) {
      const int64_t j = o * s.inner + i0 + i;
      if (vals) vals[j] = static_cast<T>(best[i]);
      if (idx) idx[j] = arg[i];
    }
  });
}

}  // namespace

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor xc = contiguous(x);
  Tensor out = Tensor::empty(reduced_shape(x, dim, keepdim), x.dtype(), x.device());
  dispatch_floating(x.dtype(), "max", [&](auto tag) {
    using T = typename decltype(tag)::type;
    max_along<T>(xc, dim, out.data<T>(), nullptr);
  });
  return out;
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor xc = contiguous(x);
  Tensor out = Tensor::empty(reduced_shape(x, dim, keepdim), DType::i64, x.device());
  dispatch_floating(x.dtype(), "argmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    max_along<T>(xc, dim, nullptr, out.data<int64_t>());
  });
  return out;
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor xc = contiguous(x);
  Tensor out = Tensor::empty(reduced_shape(x, dim, keepdim), x.dtype(), x.device());
  DimSplit s = split_at(xc.shape(), dim);
  dispatch_floating(x.dtype(), "logsumexp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    const T* px = xc.data<T>();
    T* y = out.data<T>();
    for_each_tile(s, [&](int64_t o, int64_t i0, int64_t width) {
      A m[kInnerTile], acc[kInnerTile];
      for (int64_t i = 0; i < width; ++i) m[i] = -std::numeric_limits<A>::infinity(), acc[i] = 0;
      for (int64_t k = 0; k < s.n; ++k) {
        const T* row = px + (o * s.n + k) * s.inner + i0;
        for (int64_t i = 0; i < width; ++i) m[i] = std::max(m[i], static_cast<A>(row[i]));
      }
      for (int64_t k = 0; k < s.n; ++k) {
        const T* row = px + (o * s.n + k) * s.inner + i0;
        for (int64_t i = 0; i < width; ++i) acc[i] += std::exp(static_cast<A>(row[i]) - m[i]);
      }
      for (int64_t i = 0; i < width; ++i) {
        // An all -inf row has lse -inf (not NaN from -inf - -inf); +inf stays +inf.
        A r = std::isinf(m[i]) ? m[i] : m[i] + std::log(acc[i]);
        y[o * s.inner + i0 + i] = static_cast<T>(r);
      }
    });
  });
  return out;
}

Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive) {
  Tensor xc = contiguous(x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  DimSplit s = split_at(xc.shape(), dim);
  dispatch_floating(x.dtype(), "cumsum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = xc.data<T>();
    T* y = out.data<T>();
    for_each_tile(s, [&](int64_t o, int64_t i0, int64_t width) {
      double acc[kInnerTile];
      for (int64_t i = 0; i < width; ++i) acc[i] = 0;
      for (int64_t k = 0; k < s.n; ++k) {
        const int64_t base = (o * s.n + k) * s.inner + i0;
        for (int64_t i = 0; i < width; ++i) {
          const double v = static_cast<double>(px[base + i]);
          if (exclusive) y[base + i] = static_cast<T>(acc[i]), acc[i] += v;
          else acc[i] += v, y[base + i] = static_cast<T>(acc[i]);
        }
      }
    });
  });
  return out;
}

}  // namespace gau::ops::cpu
