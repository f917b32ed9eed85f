#pragma once
// Strided N-d iteration for CPU elementwise kernels.
//
// Operands are broadcast to one output shape (stride 0 on broadcast dims), size-1 dims are dropped,
// and a dim is merged into its inner neighbour when every operand steps through both as one, so a
// contiguous same-shape op becomes a single flat loop. A kernel sees one run of the innermost dim
// at a time, as (pointers, byte strides, length), and picks a tight loop for it (map_kernel below):
// no per-element dispatch or index arithmetic. Large iterations are split into one contiguous
// range of the collapsed index space per OpenMP thread.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <tuple>
#include <utility>
#include <vector>

#include "core/ops/cpu/parallel.h"
#include "core/tensor.h"

namespace gau::ops::cpu {

constexpr int kMaxOperands = 4;
// Side of the square tiles used when an operand is transposed relative to the output.
constexpr int64_t kTile = 32;

class StridedIter {
 public:
  // operands[0] is the output and has `shape`; the others broadcast to `shape`.
  StridedIter(const Shape& shape, std::initializer_list<Tensor> operands);

  int64_t numel() const { return numel_; }
  int64_t ndim() const { return static_cast<int64_t>(sizes_.size()); }

  // loop(char* const* ptrs, const int64_t* byte_strides, int64_t n) for every run of the inner dim.
  template <typename Loop>
  void run(const Loop& loop) const {
    if (numel_ == 0) return;
    // One thread per kParallelMin elements, at most the team's size; none inside another region.
    const int64_t threads =
        omp_in_parallel() ? 1 : std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), numel_ / kParallelMin));
    if (transposed()) {
      run_tiled(loop, threads);
      return;
    }
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t t = 0; t < threads; ++t) run_range(loop, numel_ * t / threads, numel_ * (t + 1) / threads);
  }

 private:
  template <typename Loop>
  void run_range(const Loop& loop, int64_t begin, int64_t end) const;
  template <typename Loop>
  void run_tiled(const Loop& loop, int64_t threads) const;

  // True when some operand steps through memory faster along dim 1 than along the inner dim 0
  // (a transposed view): runs of dim 0 would then touch one cache line and page per element.
  bool transposed() const {
    if (ndim() < 2 || sizes_[0] < kTile || sizes_[1] < kTile) return false;
    for (int k = 0; k < nops_; ++k) {
      int64_t s1 = std::abs(strides_[1][k]);
      if (s1 != 0 && s1 < std::abs(strides_[0][k])) return true;
    }
    return false;
  }

  int nops_ = 0;
  int64_t numel_ = 0;
  std::array<char*, kMaxOperands> base_{};
  std::vector<int64_t> sizes_;                              // innermost dim first
  std::vector<std::array<int64_t, kMaxOperands>> strides_;  // [dim][operand], in bytes
};

template <typename Loop>
void StridedIter::run_range(const Loop& loop, int64_t begin, int64_t end) const {
  const int64_t nd = ndim();
  std::vector<int64_t> idx(nd);
  std::array<char*, kMaxOperands> ptr = base_;
  int64_t rem = begin;
  for (int64_t d = 0; d < nd; ++d) {
    idx[d] = rem % sizes_[d];
    rem /= sizes_[d];
    for (int k = 0; k < nops_; ++k) ptr[k] += idx[d] * strides_[d][k];
  }
  const int64_t* inner = strides_[0].data();
  for (int64_t left = end - begin; left > 0;) {
    int64_t n = std::min(sizes_[0] - idx[0], left);
    loop(ptr.data(), inner, n);
    left -= n;
    if (left == 0) break;
    // Odometer step to the start of the next run.
    for (int k = 0; k < nops_; ++k) ptr[k] -= idx[0] * inner[k];
    idx[0] = 0;
    for (int64_t d = 1; d < nd; ++d) {
      for (int k = 0; k < nops_; ++k) ptr[k] += strides_[d][k];
      if (++idx[d] < sizes_[d]) break;
      for (int k = 0; k < nops_; ++k) ptr[k] -= sizes_[d] * strides_[d][k];
      idx[d] = 0;
    }
  }
}

// Walks dims 0 and 1 in kTile x kTile tiles (runs of kTile along dim 0), so that a transposed
// operand reuses each cache line it loads; tiles are shared among threads.
template <typename Loop>
void StridedIter::run_tiled(const Loop& loop, int64_t threads) const {
  const int64_t s0 = sizes_[0], s1 = sizes_[1];
  const int64_t tiles0 = (s0 + kTile - 1) / kTile, tiles1 = (s1 + kTile - 1) / kTile;
  const int64_t tiles = numel_ / (s0 * s1) * tiles0 * tiles1;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t i0 = t % tiles0 * kTile, i1 = t / tiles0 % tiles1 * kTile;
    int64_t outer = t / tiles0 / tiles1;
    std::array<char*, kMaxOperands> ptr = base_;
    for (int64_t d = 2; d < ndim(); ++d) {
      int64_t i = outer % sizes_[d];
      outer /= sizes_[d];
      for (int k = 0; k < nops_; ++k) ptr[k] += i * strides_[d][k];
    }
    for (int k = 0; k < nops_; ++k) ptr[k] += i0 * strides_[0][k] + i1 * strides_[1][k];
    const int64_t n0 = std::min(kTile, s0 - i0), n1 = std::min(kTile, s1 - i1);
    for (int64_t j = 0; j < n1; ++j) {
      loop(ptr.data(), strides_[0].data(), n0);
      for (int k = 0; k < nops_; ++k) ptr[k] += strides_[1][k];
    }
  }
}

namespace detail {

constexpr int64_t kBroadcastBlock = 256;

template <typename Out, typename F, typename... In>
inline void contiguous_run(Out* out, int64_t n, const F& f, const In*... in) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]...);
}

// Inputs whose stride is 0 along the run hold one value: copy it into a small buffer so that the
// contiguous loop (which the compiler vectorises) still applies, block by block.
template <typename Out, typename F, typename... In, size_t... I>
inline void broadcast_run(Out* out, int64_t n, const F& f, const int64_t* s, std::index_sequence<I...>,
                          const In*... in) {
  std::tuple<std::array<In, kBroadcastBlock>...> bufs;
  const int64_t fill = std::min(n, kBroadcastBlock);
  ((s[I] == 0 ? std::fill_n(std::get<I>(bufs).data(), fill, *in) : nullptr), ...);
  for (int64_t i0 = 0; i0 < n; i0 += kBroadcastBlock) {
    int64_t m = std::min(kBroadcastBlock, n - i0);
    contiguous_run(out + i0, m, f, (s[I] == 0 ? std::get<I>(bufs).data() : in + i0)...);
  }
}

template <typename Out, typename... In, typename F, size_t... I>
inline void map_run(char* const* p, const int64_t* s, int64_t n, const F& f, std::index_sequence<I...> seq) {
  Out* out = reinterpret_cast<Out*>(p[0]);
  if (s[0] == static_cast<int64_t>(sizeof(Out))) {
    if (((s[I + 1] == static_cast<int64_t>(sizeof(In))) && ...)) {
      contiguous_run(out, n, f, reinterpret_cast<const In*>(p[I + 1])...);
      return;
    }
    if (((s[I + 1] == static_cast<int64_t>(sizeof(In)) || s[I + 1] == 0) && ...)) {
      broadcast_run(out, n, f, s + 1, seq, reinterpret_cast<const In*>(p[I + 1])...);
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    *reinterpret_cast<Out*>(p[0] + i * s[0]) = f(*reinterpret_cast<const In*>(p[I + 1] + i * s[I + 1])...);
}

}  // namespace detail

// out = f(in...) elementwise over `it`, whose operands are (out, in...) with these element types.
template <typename Out, typename... In, typename F>
void map_kernel(const StridedIter& it, const F& f) {
  it.run([&f](char* const* p, const int64_t* s, int64_t n) {
    detail::map_run<Out, In...>(p, s, n, f, std::index_sequence_for<In...>{});
  });
}

}  // namespace gau::ops::cpu
