#pragma once
// Building blocks of the CPU FLASH kernels (flash_cpu_forward.cpp, flash_cpu_backward.cpp):
// BLAS on chunk slices, the chunk geometry of one batch row, and the two drivers that every
// pass is made of: a parallel loop over (row, chunk), and a segmented scan over chunks.
//
// A kernel works on one accumulation type A (float, or double for f64 inputs); bf16/f16 inputs
// are converted to f32 copies first (O(n (s + e)) memory, like the inputs themselves).
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/ops/cpu/blas.h"
#include "core/tensor.h"
#include "layers/attention/flash_backend.h"

namespace gau::attention::cpu_flash {

// The GEMM wrapper, and the guard that runs BLAS single-threaded while OpenMP parallelises over
// (row, chunk): each chunk product is too small to split again.
using ::gau::ops::cpu::BlasSingleThread;
using ::gau::ops::cpu::gemm;

// Problem geometry; a chunk g of row b spans tokens [g c, g c + rows(g)) and its first keys(b, g)
// keys are valid (key_lengths and the internal padding past n cut the rest).
struct Geometry {
  int64_t batch, n, s, e, c, G;
  std::vector<int64_t> valid;  // [b]: valid keys of each row
  bool causal;
  LinearNorm norm;
  double norm_n;
  // Whether the work is worth a parallel region: on a loaded machine every region costs a
  // scheduling round trip, which dwarfs small problems (decoding-sized or test-sized ones).
  bool parallel;

  int64_t start(int64_t g) const { return g * c; }
  int64_t rows(int64_t g) const { return std::min(c, n - g * c); }
  // The most rows (and keys) of any chunk: c, or n when one chunk holds the whole sequence.
  int64_t max_rows() const { return std::min(c, n); }
  int64_t keys(int64_t b, int64_t g) const { return std::clamp<int64_t>(valid[b] - g * c, 0, rows(g)); }
  double inv_norm(int64_t b, int64_t g) const {
    return detail::flash_inv_norm(causal, norm, norm_n, c, g, valid[b]);
  }
};

Geometry make_geometry(const Tensor& qq, const Tensor& v, const detail::FlashResolved& opt);

// fn(b, g, thread) for every chunk, in parallel. The chunks cost about the same, and a static
// split gives each thread the same chunks on every run, so that what a thread accumulates in its
// own scratch (the relative bias's gradient) sums in the same order every time.
template <typename Fn>
void for_each_chunk(const Geometry& geo, Fn&& fn) {
  const int64_t total = geo.batch * geo.G;
#pragma omp parallel for schedule(static) if (geo.parallel)
  for (int64_t i = 0; i < total; ++i) fn(i / geo.G, i % geo.G, omp_get_thread_num());
}

// Segments per row for the scans: one per row when the batch alone fills the threads.
inline int64_t scan_segments(const Geometry& geo) {
  const int64_t threads = omp_get_max_threads();
  if (!geo.parallel || geo.batch >= threads) return 1;
  return std::min(geo.G, (threads + geo.batch - 1) / geo.batch);
}

// totals [b, s, e] = sum over chunks of the s x e contributions add(b, g, X) (X += P_g).
// Parallel over (row, segment), then a reduction over segments.
template <typename A, typename Add>
void chunk_total(const Geometry& geo, A* totals, Add&& add) {
  const int64_t segs = scan_segments(geo), se = geo.s * geo.e, per = (geo.G + segs - 1) / segs;
  Tensor part = Tensor::empty({geo.batch, segs, se}, dtype_of<A>::value);
  A* p = part.data<A>();
#pragma omp parallel for schedule(dynamic, 1) if (geo.parallel)
  for (int64_t i = 0; i < geo.batch * segs; ++i) {
    const int64_t b = i / segs, seg = i % segs;
    A* x = p + i * se;
    std::fill(x, x + se, A(0));
    for (int64_t g = seg * per; g < std::min(geo.G, (seg + 1) * per); ++g) add(b, g, x);
  }
#pragma omp parallel for if (geo.parallel)
  for (int64_t b = 0; b < geo.batch; ++b) {
    A* t = totals + b * se;
    std::copy(p + b * segs * se, p + (b * segs + 1) * se, t);
    for (int64_t seg = 1; seg < segs; ++seg) {
      const A* x = p + (b * segs + seg) * se;
      for (int64_t j = 0; j < se; ++j) t[j] += x[j];
    }
  }
}

// An exclusive scan over chunks: for each chunk g of row b, use(b, g, X) sees
//   forward: X = sum_{h < g} P_h      reverse: X = sum_{h > g} P_h
// where add(b, h, X) does X += P_h. Rows are split into segments scanned in parallel: a first
// pass sums each segment (P_h computed twice, but only when the batch is smaller than the thread
// count), the segment offsets are prefix-summed, and a second pass scans each segment from its
// offset. Memory: O((b segments + threads) s e), independent of n.
template <typename A, typename Add, typename Use>
void chunk_scan(const Geometry& geo, bool reverse, Add&& add, Use&& use) {
  const int64_t segs = scan_segments(geo), se = geo.s * geo.e, per = (geo.G + segs - 1) / segs;
  Tensor offsets = Tensor::empty({geo.batch, segs, se}, dtype_of<A>::value);
  A* off = offsets.data<A>();
  auto seg_begin = [&](int64_t seg) { return seg * per; };
  auto seg_end = [&](int64_t seg) { return std::min(geo.G, (seg + 1) * per); };
  // Pass 1: segment sums (not needed for the first segment in scan order).
  if (segs > 1) {
#pragma omp parallel for schedule(dynamic, 1) if (geo.parallel)
    for (int64_t i = 0; i < geo.batch * segs; ++i) {
      const int64_t b = i / segs, seg = i % segs;
      A* x = off + i * se;
      std::fill(x, x + se, A(0));
      if (seg == (reverse ? 0 : segs - 1)) continue;  // the last segment in scan order feeds nobody
      for (int64_t g = seg_begin(seg); g < seg_end(seg); ++g) add(b, g, x);
    }
    // Exclusive prefix over segments, in scan order, in place.
    Tensor running = Tensor::empty({geo.batch, se}, dtype_of<A>::value);
#pragma omp parallel for if (geo.parallel)
    for (int64_t b = 0; b < geo.batch; ++b) {
      A* run = running.data<A>() + b * se;
      std::fill(run, run + se, A(0));
      for (int64_t k = 0; k < segs; ++k) {
        A* x = off + (b * segs + (reverse ? segs - 1 - k : k)) * se;
        for (int64_t j = 0; j < se; ++j) {
          const A t = x[j];
          x[j] = run[j];
          run[j] += t;
        }
      }
    }
  } else {
    std::fill(off, off + geo.batch * se, A(0));
  }
  // Pass 2: scan each segment from its offset (the offset buffer is the running state).
#pragma omp parallel for schedule(dynamic, 1) if (geo.parallel)
  for (int64_t i = 0; i < geo.batch * segs; ++i) {
    const int64_t b = i / segs, seg = i % segs;
    A* x = off + i * se;
    if (!reverse) {
      for (int64_t g = seg_begin(seg); g < seg_end(seg); ++g) {
        use(b, g, static_cast<const A*>(x));
        add(b, g, x);
      }
    } else {
      for (int64_t g = seg_end(seg) - 1; g >= seg_begin(seg); --g) {
        use(b, g, static_cast<const A*>(x));
        add(b, g, x);
      }
    }
  }
}

// Per-thread scratch, as one gau tensor so allocator statistics see it.
template <typename A>
class Scratch {
 public:
  explicit Scratch(int64_t per_thread)
      : per_(per_thread), t_(Tensor::empty({int64_t(omp_get_max_threads()), std::max<int64_t>(per_thread, 1)},
                                           dtype_of<A>::value)) {}
  A* at(int thread) const { return t_.data<A>() + thread * std::max<int64_t>(per_, 1); }

 private:
  int64_t per_;
  Tensor t_;
};

using detail::compute_dtype;  // f64 for f64, f32 otherwise (layers/attention/flash_backend.h)

}  // namespace gau::attention::cpu_flash
