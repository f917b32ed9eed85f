// Tiled attention forward on CPU (FlashAttention-2 order): OpenMP over (batch x head x query
// tile), an inner loop over key tiles with BLAS tile products. Softmax keeps a running max and sum
// per query row and saves O and LSE; relu2 and laplace need no normaliser and save nothing.
#include <omp.h>

#include <cmath>
#include <limits>

#include "core/ops/copy.h"
#include "layers/attention/attention_backend.h"
#include "layers/attention/cpu/attention_math.h"
#include "layers/attention/cpu/tile_math.h"
#include "layers/attention/cpu/tile_problem.h"

namespace gau::attention::detail {

namespace {

using cpu::gemm;
using cpu::kTileK;
using cpu::kTileQ;
using cpu::TileProblem;

// Online-softmax update of rows of S [rows, cols] (scores -> unnormalised weights in place); m and
// l [rows] are the running max and sum, acc [rows, e] is rescaled when a row's max grows.
template <typename T>
void online_softmax_tile(T* S, int64_t rows, int64_t cols, T* m, T* l, T* acc, int64_t e) {
  constexpr T neg_inf = -std::numeric_limits<T>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    T* row = S + r * cols;
    const T m_new = std::max(m[r], cpu::row_max(row, cols));
    if (m_new == neg_inf) {  // every key so far is masked for this row
      for (int64_t c = 0; c < cols; ++c) row[c] = T(0);
      continue;
    }
    const T sum = cpu::exp_shifted_sum(row, cols, m_new);
    if (m_new != m[r]) {
      const T correction = m[r] == neg_inf ? T(0) : std::exp(m[r] - m_new);
      l[r] *= correction;
      T* acc_row = acc + r * e;
#pragma omp simd
      for (int64_t x = 0; x < e; ++x) acc_row[x] *= correction;
      m[r] = m_new;
    }
    l[r] += sum;
  }
}

// relu2 / laplace weights of a score tile, in place (masked scores are -inf and give 0).
template <typename T>
void pointwise_weights(Kernel kernel, T* S, int64_t count) {
  if (kernel == Kernel::relu2) {
    cpu::relu2_row(S, count);
  } else {
    for (int64_t x = 0; x < count; ++x) S[x] = laplace(S[x]);
  }
}

// o [b, h, n_q, e] and (softmax) lse [b, h, n_q], both in the compute type T.
template <typename T>
void forward_tiles(const TileProblem<T>& p, T* o, T* lse) {
  const int64_t q_tiles = (p.n_q + kTileQ - 1) / kTileQ;
  const int64_t tasks = p.b * p.h * q_tiles;
  const bool dropout = p.dropout_p > 0;
  const int64_t per_thread = kTileQ * kTileK * (dropout ? 2 : 1) + kTileQ * p.e + 2 * kTileQ;
  const int threads = cpu::tile_threads();
  Tensor workspace = Tensor::empty({threads, per_thread}, dtype_of<T>::value);
  T* workspace_base = workspace.data<T>();
  constexpr T neg_inf = -std::numeric_limits<T>::infinity();
  cpu::BlasSingleThread blas_guard;

#pragma omp parallel num_threads(threads)
  {
    T* S = workspace_base + omp_get_thread_num() * per_thread;  // [kTileQ, kTileK]
    T* F = S + kTileQ * kTileK;                                   // [kTileQ, kTileK] dropout factors
    T* acc = F + (dropout ? kTileQ * kTileK : 0);                 // [kTileQ, e]
    T* m = acc + kTileQ * p.e;                                    // [kTileQ]
    T* l = m + kTileQ;                                            // [kTileQ]
    // Causal tiles near the end see the most keys: hand them out first.
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t bh = task / q_tiles;
      const int64_t i0 = (q_tiles - 1 - task % q_tiles) * kTileQ;
      const int64_t rows = std::min(kTileQ, p.n_q - i0);
      const int64_t key_end = p.key_limit(bh / p.h, i0, rows);
      std::fill(acc, acc + rows * p.e, T(0));
      std::fill(m, m + rows, neg_inf);
      std::fill(l, l + rows, T(0));
      for (int64_t j0 = 0; j0 < key_end; j0 += kTileK) {
        const int64_t cols = std::min(kTileK, key_end - j0);
        cpu::score_tile(p, bh, i0, rows, j0, cols, S);
        if (p.kernel == Kernel::softmax)
          online_softmax_tile(S, rows, cols, m, l, acc, p.e);
        else
          pointwise_weights(p.kernel, S, rows * cols);
        if (dropout) {
          cpu::dropout_tile(p, bh, i0, rows, j0, cols, F);
#pragma omp simd
          for (int64_t x = 0; x < rows * cols; ++x) S[x] *= F[x];
        }
        gemm(false, false, rows, p.e, cols, T(1), S, cols, p.v + (bh * p.n_k + j0) * p.e, p.e, T(1), acc, p.e);
      }
      T* o_tile = o + (bh * p.n_q + i0) * p.e;
      for (int64_t r = 0; r < rows; ++r) {
        // softmax: O = acc / l, LSE = m + log l; a row that sees no key gives O = 0, LSE = +inf
        // (so that backward's exp(S - LSE) is 0 there).
        const bool empty_row = p.kernel == Kernel::softmax && l[r] == T(0);
        const T inv = p.kernel == Kernel::softmax && !empty_row ? T(1) / l[r] : T(1);
        for (int64_t x = 0; x < p.e; ++x) o_tile[r * p.e + x] = empty_row ? T(0) : acc[r * p.e + x] * inv;
        if (lse)
          lse[bh * p.n_q + i0 + r] = empty_row ? std::numeric_limits<T>::infinity() : m[r] + std::log(l[r]);
      }
    }
  }
}

template <typename T>
ForwardResult forward_typed(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt) {
  Tensor bias_rel;
  const TileProblem<T> p = cpu::make_tile_problem<T>(q, k, v, opt, bias_rel);
  ForwardResult result;
  result.o = Tensor::empty({p.b, p.h, p.n_q, p.e}, dtype_of<T>::value);
  if (opt.kernel == Kernel::softmax) result.lse = Tensor::empty({p.b, p.h, p.n_q}, dtype_of<T>::value);
  forward_tiles(p, result.o.data<T>(), result.lse.defined() ? result.lse.data<T>() : nullptr);
  return result;
}

}  // namespace

ForwardResult forward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt) {
  if (q.dtype() == DType::f64) return forward_typed<double>(q, k, v, opt);
  if (q.dtype() == DType::f32) return forward_typed<float>(q, k, v, opt);
  // bf16 / f16: compute in f32 on converted copies (O(n) memory), return O in the input dtype.
  ForwardResult result = forward_typed<float>(ops::to_dtype(q, DType::f32), ops::to_dtype(k, DType::f32),
                                              ops::to_dtype(v, DType::f32), opt);
  result.o = ops::to_dtype(result.o, q.dtype());
  return result;
}

}  // namespace gau::attention::detail
