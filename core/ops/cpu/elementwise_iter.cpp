#include "core/ops/cpu/elementwise_iter.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/ops/cpu/parallel.h"

namespace gau::ops::cpu {

StridedIter::StridedIter(const Shape& shape, std::initializer_list<Tensor> operands) {
  nops_ = static_cast<int>(operands.size());
  GAU_CHECK(nops_ >= 1 && nops_ <= kMaxOperands, "StridedIter: expected 1 to ", kMaxOperands, " operands, got ", nops_);
  numel_ = shape_numel(shape);
  const int64_t rank = static_cast<int64_t>(shape.size());

  // The common case, every operand contiguous with the output's shape, is one flat run: skip
  // the per-dim strides and merging (for small tensors they are most of the op's cost).
  bool flat = true;
  for (const Tensor& t : operands) flat = flat && t.shape() == shape && t.is_contiguous();
  if (flat) {
    int k = 0;
    std::array<int64_t, kMaxOperands> step{};
    for (const Tensor& t : operands) {
      base_[k] = static_cast<char*>(t.data_ptr());
      dtypes_[k] = t.dtype();
      step[k++] = static_cast<int64_t>(t.element_size());
    }
    sizes_.push_back(numel_);
    strides_.push_back(step);
    return;
  }

  // Byte strides of every operand aligned to `shape`, innermost dim first; 0 where broadcast.
  SmallVector<std::array<int64_t, kMaxOperands>, 8> full(static_cast<size_t>(rank));
  int k = 0;
  for (const Tensor& t : operands) {
    GAU_CHECK(t.dim() <= rank, "StridedIter: operand ", describe(t), " has more dims than the shape ", shape);
    base_[k] = static_cast<char*>(t.data_ptr());
    dtypes_[k] = t.dtype();
    const int64_t lead = rank - t.dim();
    const int64_t es = static_cast<int64_t>(t.element_size());
    for (int64_t i = 0; i < rank; ++i) {
      int64_t stride = 0;
      if (i >= lead) {
        int64_t size = t.shape()[i - lead];
        GAU_CHECK(size == shape[i] || size == 1, "StridedIter: operand ", describe(t), " does not broadcast to ",
                  shape);
        if (size != 1) stride = t.strides()[i - lead] * es;
      }
      full[rank - 1 - i][k] = stride;
    }
    ++k;
  }

  // Drop size-1 dims; merge an outer dim into the current inner one when, for every operand,
  // stepping the outer dim equals stepping the inner one `size` times.
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = shape[rank - 1 - d];
    if (size == 1) continue;
    if (!sizes_.empty()) {
      bool mergeable = true;
      for (int j = 0; j < nops_; ++j) mergeable = mergeable && full[d][j] == strides_.back()[j] * sizes_.back();
      if (mergeable) {
        sizes_.back() *= size;
        continue;
      }
    }
    sizes_.push_back(size);
    strides_.push_back(full[d]);
  }
  if (sizes_.empty()) {
    sizes_.push_back(1);
    strides_.push_back({});
  }
}

BlockKernel StridedIter::bind(BlockLoop loop, const void* fn, std::initializer_list<int64_t> sizes,
                              std::initializer_list<bool> is_f32) const {
  GAU_CHECK(static_cast<int>(sizes.size()) == nops_ && static_cast<int>(is_f32.size()) == nops_,
            "StridedIter: a kernel of ", sizes.size(), " operands bound to an iteration over ", nops_);
  BlockKernel k{loop, fn, {}, {}};
  for (int j = 0; j < nops_; ++j) {
    const DType t = dtypes_[j];
    const int64_t size = sizes.begin()[j];
    k.size[j] = size;
    if ((t == DType::bf16 || t == DType::f16) && is_f32.begin()[j]) {
      k.staging[j] = t == DType::bf16 ? Staging::bf16 : Staging::f16;
    } else {
      GAU_CHECK(static_cast<int64_t>(dtype_size(t)) == size, "StridedIter: operand ", j, " is ", dtype_name(t),
                " but its kernel computes in a type of ", size, " bytes");
      k.staging[j] = Staging::raw;
    }
  }
  return k;
}

namespace {

// dst[i] = conv(element i of src, `stride` bytes apart), for i < n; dst is a unit-stride block.
template <typename S, typename D, typename Conv>
void gather_as(char* dst, const char* src, int64_t stride, int64_t n, Conv conv) {
  D* d = reinterpret_cast<D*>(dst);
  if (stride == static_cast<int64_t>(sizeof(S))) {
    const S* s = reinterpret_cast<const S*>(src);
    for (int64_t i = 0; i < n; ++i) d[i] = conv(s[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    S v;
    std::memcpy(&v, src + i * stride, sizeof(S));
    d[i] = conv(v);
  }
}

// Element i of dst (`stride` bytes apart) = conv(src[i]), for i < n.
template <typename S, typename D, typename Conv>
void scatter_as(char* dst, int64_t stride, const char* src, int64_t n, Conv conv) {
  const S* s = reinterpret_cast<const S*>(src);
  if (stride == static_cast<int64_t>(sizeof(D))) {
    D* d = reinterpret_cast<D*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = conv(s[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const D v = conv(s[i]);
    std::memcpy(dst + i * stride, &v, sizeof(D));
  }
}

constexpr auto same = [](auto v) { return v; };

void gather(char* dst, const char* src, int64_t stride, int64_t n, Staging st, int64_t size) {
  switch (st) {
    case Staging::bf16: return gather_as<uint16_t, float>(dst, src, stride, n, [](uint16_t h) { return bf16_bits_to_float(h); });
    case Staging::f16: return gather_as<uint16_t, float>(dst, src, stride, n, [](uint16_t h) { return f16_bits_to_float(h); });
    case Staging::raw: break;
  }
  switch (size) {
    case 1: return gather_as<uint8_t, uint8_t>(dst, src, stride, n, same);
    case 2: return gather_as<uint16_t, uint16_t>(dst, src, stride, n, same);
    case 4: return gather_as<uint32_t, uint32_t>(dst, src, stride, n, same);
    default: return gather_as<uint64_t, uint64_t>(dst, src, stride, n, same);
  }
}

void scatter(char* dst, int64_t stride, const char* src, int64_t n, Staging st, int64_t size) {
  switch (st) {
    case Staging::bf16: return scatter_as<float, uint16_t>(dst, stride, src, n, [](float f) { return float_to_bf16_bits(f); });
    case Staging::f16: return scatter_as<float, uint16_t>(dst, stride, src, n, [](float f) { return float_to_f16_bits(f); });
    case Staging::raw: break;
  }
  switch (size) {
    case 1: return scatter_as<uint8_t, uint8_t>(dst, stride, src, n, same);
    case 2: return scatter_as<uint16_t, uint16_t>(dst, stride, src, n, same);
    case 4: return scatter_as<uint32_t, uint32_t>(dst, stride, src, n, same);
    default: return scatter_as<uint64_t, uint64_t>(dst, stride, src, n, same);
  }
}

// One run of n elements: operand j starts at p[j] and steps s[j] bytes.
void run_row(const BlockKernel& k, int nops, char* const* p, const int64_t* s, int64_t n) {
  bool staged[kMaxOperands] = {};
  bool any = false;
  for (int j = 0; j < nops; ++j) {
    staged[j] = k.staging[j] != Staging::raw || s[j] != k.size[j];
    any = any || staged[j];
  }
  if (!any) {
    k.loop(p, n, k.fn);
    return;
  }
  alignas(64) char buf[kMaxOperands][kBlock * sizeof(double)];
  char* q[kMaxOperands];
  // A broadcast input holds one value along the run: fill its block once.
  for (int j = 1; j < nops; ++j)
    if (s[j] == 0) gather(buf[j], p[j], 0, std::min(n, kBlock), k.staging[j], k.size[j]);
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t m = std::min(kBlock, n - i0);
    for (int j = 1; j < nops; ++j) {
      q[j] = staged[j] ? buf[j] : p[j] + i0 * s[j];
      if (staged[j] && s[j] != 0) gather(buf[j], p[j] + i0 * s[j], s[j], m, k.staging[j], k.size[j]);
    }
    q[0] = staged[0] ? buf[0] : p[0] + i0 * s[0];
    k.loop(q, m, k.fn);
    if (staged[0]) scatter(p[0] + i0 * s[0], s[0], buf[0], m, k.staging[0], k.size[0]);
  }
}

}  // namespace

bool StridedIter::transposed() const {
  if (ndim() < 2 || sizes_[0] < kTile || sizes_[1] < kTile) return false;
  for (int k = 0; k < nops_; ++k) {
    int64_t s1 = std::abs(strides_[1][k]);
    if (s1 != 0 && s1 < std::abs(strides_[0][k])) return true;
  }
  return false;
}

void StridedIter::run(const BlockKernel& k) const {
  if (numel_ == 0) return;
  // One thread per kParallelMin elements, at most the team's size; none inside another region.
  const int64_t threads =
      omp_in_parallel() ? 1 : std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), numel_ / kParallelMin));
  if (transposed()) {
    run_tiled(k, threads);
    return;
  }
  if (threads == 1) {
    // Not even an if(false) parallel region: libgomp still builds a team for one, a heap
    // allocation that costs more than a small op itself.
    run_range(k, 0, numel_);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t t = 0; t < threads; ++t) run_range(k, numel_ * t / threads, numel_ * (t + 1) / threads);
}

void StridedIter::run_range(const BlockKernel& k, int64_t begin, int64_t end) const {
  const int64_t nd = ndim();
  SmallVector<int64_t, 8> idx(static_cast<size_t>(nd));
  std::array<char*, kMaxOperands> ptr = base_;
  int64_t rem = begin;
  for (int64_t d = 0; d < nd; ++d) {
    idx[d] = rem % sizes_[d];
    rem /= sizes_[d];
    for (int j = 0; j < nops_; ++j) ptr[j] += idx[d] * strides_[d][j];
  }
  const int64_t* inner = strides_[0].data();
  for (int64_t left = end - begin; left > 0;) {
    int64_t n = std::min(sizes_[0] - idx[0], left);
    run_row(k, nops_, ptr.data(), inner, n);
    left -= n;
    if (left == 0) break;
    // Odometer step to the start of the next run.
    for (int j = 0; j < nops_; ++j) ptr[j] -= idx[0] * inner[j];
    idx[0] = 0;
    for (int64_t d = 1; d < nd; ++d) {
      for (int j = 0; j < nops_; ++j) ptr[j] += strides_[d][j];
      if (++idx[d] < sizes_[d]) break;
      for (int j = 0; j < nops_; ++j) ptr[j] -= sizes_[d] * strides_[d][j];
      idx[d] = 0;
    }
  }
}

// Walks dims 0 and 1 in kTile x kTile tiles (runs of kTile along dim 0), so that a transposed
// operand reuses each cache line it loads; tiles are shared among threads.
void StridedIter::run_tiled(const BlockKernel& k, int64_t threads) const {
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
      for (int j = 0; j < nops_; ++j) ptr[j] += i * strides_[d][j];
    }
    for (int j = 0; j < nops_; ++j) ptr[j] += i0 * strides_[0][j] + i1 * strides_[1][j];
    const int64_t n0 = std::min(kTile, s0 - i0), n1 = std::min(kTile, s1 - i1);
    for (int64_t r = 0; r < n1; ++r) {
      run_row(k, nops_, ptr.data(), strides_[0].data(), n0);
      for (int j = 0; j < nops_; ++j) ptr[j] += strides_[1][j];
    }
  }
}

}  // namespace gau::ops::cpu
