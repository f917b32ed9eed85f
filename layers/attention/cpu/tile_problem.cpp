#include "layers/attention/cpu/tile_problem.h"

#include <omp.h>

#include <limits>

#include "core/dispatch.h"
#include "layers/attention/cpu/attention_math.h"
#include "layers/attention/cpu/tile_math.h"
#include "layers/attention/row_scale.h"

namespace gau::attention::detail::cpu {

namespace {

// Table index of relative position rel = (query position) - j (attention.h: query i sits at
// position i + n_k - n_q).
int64_t bias_index(const RelativeBias& bias, int64_t rel) {
  if (bias.kind == RelativeBias::Kind::per_offset) return offset_bias_index(rel, bias.max_offset);
  return t5_bucket(rel, bias.num_buckets, bias.max_distance, bias.bidirectional);
}

}  // namespace

int tile_threads() { return omp_get_max_threads(); }

template <typename T>
TileProblem<T> make_tile_problem(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt,
                                 Tensor& bias_rel_storage) {
  TileProblem<T> p;
  p.b = q.size(0), p.h = q.size(1), p.n_q = q.size(2), p.s = q.size(3);
  p.n_k = k.size(2), p.e = v.size(3);
  p.causal_shift = p.n_k - p.n_q;
  p.kernel = opt.kernel;
  p.causal = opt.causal;
  p.q = q.data<T>(), p.k = k.data<T>(), p.v = v.data<T>();
  p.key_end.assign(p.b, p.n_k);
  if (opt.key_lengths.defined()) {
    const int64_t* lengths = opt.key_lengths.data<int64_t>();
    for (int64_t bb = 0; bb < p.b; ++bb) p.key_end[bb] = lengths[bb];
  }
  if (opt.key_mask.defined()) p.key_mask = opt.key_mask.data<bool>();
  p.scale.assign(p.b, static_cast<T>(opt.scale));
  if (opt.scale_by_valid_length || opt.log_length_base > 0) {
    for (int64_t bb = 0; bb < p.b; ++bb) {
      int64_t valid = p.key_end[bb];
      if (p.key_mask) {
        valid = 0;
        for (int64_t j = 0; j < p.n_k; ++j) valid += p.key_mask[bb * p.n_k + j] ? 1 : 0;
      }
      p.scale[bb] = static_cast<T>(row_scale(opt.scale, opt.scale_by_valid_length, opt.log_length_base, valid));
    }
  }
  if (opt.bias.kind != RelativeBias::Kind::none) {
    const int64_t n_rel = p.n_q + p.n_k - 1;
    bias_rel_storage = Tensor::empty({n_rel}, dtype_of<T>::value, q.device());
    T* rel_bias = bias_rel_storage.data<T>();
    const T* table = opt.bias.table.data<T>();
    // Entry r holds the pair with i - j = r - (n_k - 1), whose relative position is i - j + causal_shift.
    for (int64_t r = 0; r < n_rel; ++r) rel_bias[r] = table[bias_index(opt.bias, r - (p.n_k - 1) + p.causal_shift)];
    p.bias_rel = rel_bias;
  }
  p.dropout_p = static_cast<float>(opt.dropout_p);
  p.dropout_scale = opt.dropout_p > 0 ? static_cast<T>(1.0 / (1.0 - opt.dropout_p)) : T(1);
  p.seed = opt.seed, p.offset = opt.offset;
  return p;
}

template <typename T>
void score_tile(const TileProblem<T>& p, int64_t bh, int64_t i0, int64_t rows, int64_t j0, int64_t cols, T* S) {
  const int64_t bb = bh / p.h;
  gemm(false, true, rows, cols, p.s, p.scale[bb], p.q + (bh * p.n_q + i0) * p.s, p.s, p.k + (bh * p.n_k + j0) * p.s,
       p.s, T(0), S, cols);
  constexpr T neg_inf = -std::numeric_limits<T>::infinity();
  if (p.bias_rel) {
    for (int64_t r = 0; r < rows; ++r) {
      // bias of (i0 + r, j0 + c) sits at i0 + r - j0 - c + n_k - 1: a descending run per row.
      const T* rel = p.bias_rel + (i0 + r - j0 + p.n_k - 1);
      T* row = S + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) row[c] += rel[-c];
    }
  }
  if (p.key_mask) {
    const bool* mask = p.key_mask + bb * p.n_k + j0;
    for (int64_t c = 0; c < cols; ++c) {
      if (mask[c]) continue;
      for (int64_t r = 0; r < rows; ++r) S[r * cols + c] = neg_inf;
    }
  }
  if (p.causal) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t first_masked = std::max<int64_t>(i0 + r + p.causal_shift + 1 - j0, 0);
      for (int64_t c = first_masked; c < cols; ++c) S[r * cols + c] = neg_inf;
    }
  }
}

template <typename T>
void dropout_tile(const TileProblem<T>& p, int64_t bh, int64_t i0, int64_t rows, int64_t j0, int64_t cols, T* F) {
  for (int64_t r = 0; r < rows; ++r) {
    const uint64_t base = static_cast<uint64_t>((bh * p.n_q + i0 + r) * p.n_k + j0);
    T* row = F + r * cols;
    // One Philox block gives four consecutive elements: draw each block once.
    int64_t c = 0;
    while (c < cols) {
      const uint64_t element = base + static_cast<uint64_t>(c);
      const Philox4 block = philox4x32_10(p.seed, p.offset + element / 4);
      for (uint64_t word = element % 4; word < 4 && c < cols; ++word, ++c)
        row[c] = ops::math::dropout_keep_word(block.v[word], p.dropout_p) ? p.dropout_scale : T(0);
    }
  }
}

void reduce_bias_grad(const RelativeBias& bias, const double* d_rel, int64_t n_q, int64_t n_k, const Tensor& d_table) {
  dispatch_floating(d_table.dtype(), "attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = d_table.data<T>();
    const int64_t size = d_table.numel();
    std::vector<double> acc(static_cast<size_t>(size), 0.0);
    for (int64_t r = 0; r < n_q + n_k - 1; ++r) acc[bias_index(bias, r - (n_k - 1) + (n_k - n_q))] += d_rel[r];
    for (int64_t t = 0; t < size; ++t) out[t] = static_cast<T>(acc[t]);
  });
}

template TileProblem<float> make_tile_problem<float>(const Tensor&, const Tensor&, const Tensor&,
                                                     const ResolvedOptions&, Tensor&);
template TileProblem<double> make_tile_problem<double>(const Tensor&, const Tensor&, const Tensor&,
                                                       const ResolvedOptions&, Tensor&);
template void score_tile<float>(const TileProblem<float>&, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void score_tile<double>(const TileProblem<double>&, int64_t, int64_t, int64_t, int64_t, int64_t, double*);
template void dropout_tile<float>(const TileProblem<float>&, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
template void dropout_tile<double>(const TileProblem<double>&, int64_t, int64_t, int64_t, int64_t, int64_t,
                                   double*);

}  // namespace gau::attention::detail::cpu
