// Recompute-backward of tiled attention on CPU. Per tile (docs/model.md, "Recompute backward"):
//   dV += P^T dO;  dP = dO v^T;  dS = f'(S, dP);  dQ += dS k scale;  dK += dS^T q scale.
// Memory stays O(n): no atomics and no per-thread copies of d_q / d_k / d_v.
// - At least two heads (b x h) per thread: one pass, OpenMP over heads; a thread owns all of a
//   head's gradients and walks its key tiles (FlashAttention-2 order), 5 tile GEMMs.
// - Fewer heads (GAU has h = 1): two race-free passes that each own their outputs,
//     pass 1, OpenMP over (head x key tile):   d_k, d_v, d_bias;
//     pass 2, OpenMP over (head x query tile): d_q,
//   repeating the S and dP products (7 tile GEMMs) in exchange for parallelism along n.
#include <omp.h>

#include <cmath>
#include <cstring>

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

// From scores S and dA_drop = dO v^T (both [rows, cols]) to the dropped weights (into S, for dV)
// and dS (into dP). F [rows, cols] holds the dropout factors, or is null without dropout. lse and
// d [rows]: softmax's log-sum-exp and D = rowsum(dO * O).
template <typename T>
void weights_and_grad(Kernel kernel, T* S, T* dP, const T* F, int64_t rows, int64_t cols, const T* lse,
                      const T* d) {
  for (int64_t r = 0; r < rows; ++r) {
    T* s_row = S + r * cols;
    T* dp_row = dP + r * cols;
    const T* f_row = F ? F + r * cols : nullptr;
    if (kernel == Kernel::softmax) {
      cpu::softmax_grad_row(s_row, dp_row, f_row, cols, lse[r], d[r]);
    } else if (kernel == Kernel::relu2) {
      cpu::relu2_grad_row(s_row, dp_row, f_row, cols);
    } else {
      for (int64_t c = 0; c < cols; ++c) {
        const T keep = f_row ? f_row[c] : T(1);
        dp_row[c] = laplace_grad(s_row[c]) * dp_row[c] * keep;  // dS = f'(S) dA
        s_row[c] = laplace(s_row[c]) * keep;
      }
    }
  }
}

template <typename T>
struct BackwardBuffers {
  const T* d_o;   // [b, h, n_q, e]
  const T* lse;   // [b, h, n_q] (softmax)
  const T* d;     // [b, h, n_q] rowsum(dO * O) (softmax)
  T* d_q;         // [b, h, n_q, s]
  T* d_k;         // [b, h, n_k, s]
  T* d_v;         // [b, h, n_k, e]
  double* d_rel;  // [threads, n_q + n_k - 1] per-thread bias-gradient sums, or null
};

// S, dP and (with dropout) F of one tile, then the weights and dS in place.
template <typename T>
void recompute_tile(const TileProblem<T>& p, const BackwardBuffers<T>& g, int64_t bh, int64_t i0, int64_t rows,
                    int64_t j0, int64_t cols, T* S, T* dP, T* F) {
  cpu::score_tile(p, bh, i0, rows, j0, cols, S);
  gemm(false, true, rows, cols, p.e, T(1), g.d_o + (bh * p.n_q + i0) * p.e, p.e, p.v + (bh * p.n_k + j0) * p.e, p.e,
       T(0), dP, cols);
  const T* lse = g.lse ? g.lse + bh * p.n_q + i0 : nullptr;
  const T* d = g.d ? g.d + bh * p.n_q + i0 : nullptr;
  if (p.dropout_p > 0) cpu::dropout_tile(p, bh, i0, rows, j0, cols, F);
  weights_and_grad(p.kernel, S, dP, p.dropout_p > 0 ? F : nullptr, rows, cols, lse, d);
}

// d_k, d_v (and d_bias sums) of key tile j0 of head bh, looping over the query tiles that see it.
// With add_d_q the same tiles also add dS k scale into d_q (the caller owns the head's d_q rows).
template <typename T>
void key_tile_backward(const TileProblem<T>& p, const BackwardBuffers<T>& g, int64_t bh, int64_t j0, bool add_d_q,
                       T* S, T* dP, T* F, double* d_rel) {
  const T scale = p.scale[bh / p.h];
  T* d_k = g.d_k + (bh * p.n_k + j0) * p.s;
  T* d_v = g.d_v + (bh * p.n_k + j0) * p.e;
  const T* k_tile = p.k + (bh * p.n_k + j0) * p.s;
  const int64_t all_cols = std::min(kTileK, p.n_k - j0);
  std::fill(d_k, d_k + all_cols * p.s, T(0));
  std::fill(d_v, d_v + all_cols * p.e, T(0));
  const int64_t cols = std::min(all_cols, p.key_end[bh / p.h] - j0);  // padding keys get 0
  for (int64_t i0 = p.first_query(j0); cols > 0 && i0 < p.n_q; i0 += kTileQ) {
    const int64_t rows = std::min(kTileQ, p.n_q - i0);
    recompute_tile(p, g, bh, i0, rows, j0, cols, S, dP, F);
    gemm(true, false, cols, p.e, rows, T(1), S, cols, g.d_o + (bh * p.n_q + i0) * p.e, p.e, T(1), d_v, p.e);
    gemm(true, false, cols, p.s, rows, scale, dP, cols, p.q + (bh * p.n_q + i0) * p.s, p.s, T(1), d_k, p.s);
    if (add_d_q)
      gemm(false, false, rows, p.s, cols, scale, dP, cols, k_tile, p.s, T(1), g.d_q + (bh * p.n_q + i0) * p.s, p.s);
    if (d_rel) {
      for (int64_t r = 0; r < rows; ++r) {
        double* rel = d_rel + (i0 + r - j0 + p.n_k - 1);  // offset i - j falls as c grows
        for (int64_t c = 0; c < cols; ++c) rel[-c] += static_cast<double>(dP[r * cols + c]);
      }
    }
  }
}

template <typename T>
void backward_tiles(const TileProblem<T>& p, const BackwardBuffers<T>& g) {
  const int threads = cpu::tile_threads();
  const int64_t tile = kTileQ * kTileK;
  Tensor workspace = Tensor::empty({threads, 3 * tile}, dtype_of<T>::value);
  T* workspace_base = workspace.data<T>();
  const int64_t n_rel = p.n_q + p.n_k - 1;
  const int64_t k_tiles = (p.n_k + kTileK - 1) / kTileK;
  cpu::BlasSingleThread blas_guard;

  // Enough heads to keep every thread busy: one pass, each thread owning whole heads, so d_q can
  // be accumulated in place (5 tile GEMMs instead of 7).
  if (p.b * p.h >= 2 * threads) {
#pragma omp parallel num_threads(threads)
    {
      T* S = workspace_base + omp_get_thread_num() * 3 * tile;
      double* d_rel = g.d_rel ? g.d_rel + omp_get_thread_num() * n_rel : nullptr;
#pragma omp for schedule(dynamic, 1)
      for (int64_t bh = 0; bh < p.b * p.h; ++bh) {
        std::fill(g.d_q + bh * p.n_q * p.s, g.d_q + (bh + 1) * p.n_q * p.s, T(0));
        for (int64_t j0 = 0; j0 < p.n_k; j0 += kTileK)
          key_tile_backward(p, g, bh, j0, /*add_d_q=*/true, S, S + tile, S + 2 * tile, d_rel);
      }
    }
    return;
  }

  // Pass 1: d_k, d_v (and d_bias) per key tile.
#pragma omp parallel num_threads(threads)
  {
    T* S = workspace_base + omp_get_thread_num() * 3 * tile;
    double* d_rel = g.d_rel ? g.d_rel + omp_get_thread_num() * n_rel : nullptr;
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < p.b * p.h * k_tiles; ++task)
      key_tile_backward(p, g, task / k_tiles, (task % k_tiles) * kTileK, /*add_d_q=*/false, S, S + tile,
                        S + 2 * tile, d_rel);
  }

  // Pass 2: d_q per query tile, looping over the key tiles it sees.
  const int64_t q_tiles = (p.n_q + kTileQ - 1) / kTileQ;
#pragma omp parallel num_threads(threads)
  {
    T* S = workspace_base + omp_get_thread_num() * 3 * tile;
    T* dP = S + tile;
    T* F = dP + tile;
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < p.b * p.h * q_tiles; ++task) {
      const int64_t bh = task / q_tiles;
      const int64_t i0 = (q_tiles - 1 - task % q_tiles) * kTileQ;
      const int64_t rows = std::min(kTileQ, p.n_q - i0);
      const T scale = p.scale[bh / p.h];
      T* d_q = g.d_q + (bh * p.n_q + i0) * p.s;
      std::fill(d_q, d_q + rows * p.s, T(0));
      const int64_t key_end = p.key_limit(bh / p.h, i0, rows);
      for (int64_t j0 = 0; j0 < key_end; j0 += kTileK) {
        const int64_t cols = std::min(kTileK, key_end - j0);
        recompute_tile(p, g, bh, i0, rows, j0, cols, S, dP, F);
        gemm(false, false, rows, p.s, cols, scale, dP, cols, p.k + (bh * p.n_k + j0) * p.s, p.s, T(1), d_q, p.s);
      }
    }
  }
}

template <typename T>
BackwardResult backward_typed(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                              const Tensor& d_o, const ResolvedOptions& opt) {
  Tensor bias_rel;
  const TileProblem<T> p = cpu::make_tile_problem<T>(q, k, v, opt, bias_rel);
  const DType dt = dtype_of<T>::value;
  BackwardResult result;
  result.d_q = Tensor::empty(q.shape(), dt);
  result.d_k = Tensor::empty(k.shape(), dt);
  result.d_v = Tensor::empty(v.shape(), dt);
  BackwardBuffers<T> g{d_o.data<T>(), nullptr, nullptr, result.d_q.data<T>(), result.d_k.data<T>(),
                       result.d_v.data<T>(), nullptr};
  Tensor d_rows;  // [b, h, n_q]
  if (opt.kernel == Kernel::softmax) {
    g.lse = lse.data<T>();
    d_rows = Tensor::empty({p.b, p.h, p.n_q}, dt);
    T* d = d_rows.data<T>();
    const T* o_data = o.data<T>();
    const int64_t total_rows = p.b * p.h * p.n_q;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < total_rows; ++row) {
      T sum = 0;
      for (int64_t x = 0; x < p.e; ++x) sum += g.d_o[row * p.e + x] * o_data[row * p.e + x];
      d[row] = sum;
    }
    g.d = d;
  }
  Tensor d_rel;  // [threads, n_q + n_k - 1] f64
  const int64_t n_rel = p.n_q + p.n_k - 1;
  if (opt.bias.kind != RelativeBias::Kind::none) {
    d_rel = Tensor::empty({cpu::tile_threads(), n_rel}, DType::f64);
    std::memset(d_rel.data_ptr(), 0, d_rel.nbytes());
    g.d_rel = d_rel.data<double>();
  }
  backward_tiles(p, g);
  if (g.d_rel) {
    for (int64_t t = 1; t < d_rel.size(0); ++t)
      for (int64_t r = 0; r < n_rel; ++r) g.d_rel[r] += g.d_rel[t * n_rel + r];
    result.d_bias = Tensor::empty(opt.bias.table.shape(), opt.bias.table.dtype());
    cpu::reduce_bias_grad(opt.bias, g.d_rel, p.n_q, p.n_k, result.d_bias);
  }
  return result;
}

}  // namespace

BackwardResult backward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                            const Tensor& d_o, const ResolvedOptions& opt) {
  if (q.dtype() == DType::f64) return backward_typed<double>(q, k, v, o, lse, d_o, opt);
  if (q.dtype() == DType::f32) return backward_typed<float>(q, k, v, o, lse, d_o, opt);
  // bf16 / f16: compute in f32 on converted copies, return gradients in the input dtype.
  auto f32 = [](const Tensor& x) { return x.defined() ? ops::to_dtype(x, DType::f32) : x; };
  BackwardResult result = backward_typed<float>(f32(q), f32(k), f32(v), f32(o), lse, f32(d_o), opt);
  result.d_q = ops::to_dtype(result.d_q, q.dtype());
  result.d_k = ops::to_dtype(result.d_k, k.dtype());
  result.d_v = ops::to_dtype(result.d_v, v.dtype());
  return result;
}

}  // namespace gau::attention::detail
