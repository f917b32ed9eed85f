#pragma once
// The local (quadratic, in-chunk) part of FLASH on one chunk: relu^2 attention over the chunk's
// valid keys, with the per-offset bias and the in-chunk causal mask.
//   PyTorch: a = relu(qq_g @ kq_g.T / c + r).square().masked_fill(mask, 0); o_g = a @ v_g
#include "layers/attention/cpu/flash_cpu.h"

namespace gau::attention::cpu_flash {

// x + r[i - j] (x itself without a bias) for query i and key j of a chunk.
template <typename A>
inline A add_bias(const Geometry& geo, const A* bias, int64_t i, int64_t j, A x) {
  return bias ? x + bias[i - j + geo.c - 1] : x;
}

// o_g [rows, e] = relu(qq_g kq_g^T / c + r)^2 v_g, overwriting o_g. scratch: max_rows^2.
template <typename A>
void local_forward_chunk(const Geometry& geo, const A* qq, const A* kq, const A* v, const A* bias, int64_t b,
                         int64_t g, A* o, A* scratch) {
  const int64_t r = geo.rows(g), kv = geo.keys(b, g), row0 = b * geo.n + geo.start(g), s = geo.s, e = geo.e;
  A* S = scratch;  // [r, kv]
  gemm<A>(false, true, r, kv, s, A(1) / A(geo.c), qq + row0 * s, s, kq + row0 * s, s, A(0), S, kv);
  for (int64_t i = 0; i < r; ++i) {
    A* row = S + i * kv;
    const int64_t live = geo.causal ? std::min(kv, i + 1) : kv;
    for (int64_t j = 0; j < live; ++j) {
      const A x = add_bias(geo, bias, i, j, row[j]);
      row[j] = x > A(0) ? x * x : A(0);
    }
    for (int64_t j = live; j < kv; ++j) row[j] = A(0);
  }
  gemm<A>(false, false, r, e, kv, A(1), S, kv, v + row0 * e, e, A(0), o + row0 * e, e);
}

// Local backward of one chunk, overwriting d_qq_g, d_kq_g, d_v_g (rows past the valid keys get 0)
// and adding into d_bias [2c - 1] (may be null). scratch: 2 max_rows^2.
//   d_v = A^T d_o;  dA = d_o v^T;  dS = 2 relu(x) dA;  d_qq = dS kq / c;  d_kq = dS^T qq / c
template <typename A>
void local_backward_chunk(const Geometry& geo, const A* qq, const A* kq, const A* v, const A* bias, const A* d_o,
                          int64_t b, int64_t g, A* d_qq, A* d_kq, A* d_v, A* d_bias, A* scratch) {
  const int64_t r = geo.rows(g), kv = geo.keys(b, g), row0 = b * geo.n + geo.start(g), s = geo.s, e = geo.e;
  const A inv_c = A(1) / A(geo.c);
  A* X = scratch;             // [r, kv]: pre-activation x, then dS
  A* P = scratch + r * kv;    // [r, kv]: A = relu(x)^2, then dA
  gemm<A>(false, true, r, kv, s, inv_c, qq + row0 * s, s, kq + row0 * s, s, A(0), X, kv);
  for (int64_t i = 0; i < r; ++i) {
    const int64_t live = geo.causal ? std::min(kv, i + 1) : kv;
    for (int64_t j = 0; j < live; ++j) {
      const A x = add_bias(geo, bias, i, j, X[i * kv + j]);
      const A rx = x > A(0) ? x : A(0);
      X[i * kv + j] = rx;
      P[i * kv + j] = rx * rx;
    }
    for (int64_t j = live; j < kv; ++j) X[i * kv + j] = P[i * kv + j] = A(0);
  }
  A* dv = d_v + row0 * e;
  gemm<A>(true, false, kv, e, r, A(1), P, kv, d_o + row0 * e, e, A(0), dv, e);
  std::fill(dv + kv * e, dv + r * e, A(0));
  gemm<A>(false, true, r, kv, e, A(1), d_o + row0 * e, e, v + row0 * e, e, A(0), P, kv);
  // dS = 2 relu(x) dA; entries outside the mask have relu(x) = 0 already.
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < kv; ++j) {
      const A ds = A(2) * X[i * kv + j] * P[i * kv + j];
      X[i * kv + j] = ds;
      if (d_bias && ds != A(0)) d_bias[i - j + geo.c - 1] += ds;
    }
  }
  gemm<A>(false, false, r, s, kv, inv_c, X, kv, kq + row0 * s, s, A(0), d_qq + row0 * s, s);
  A* dk = d_kq + row0 * s;
  gemm<A>(true, false, kv, s, r, inv_c, X, kv, qq + row0 * s, s, A(0), dk, s);
  std::fill(dk + kv * s, dk + r * s, A(0));
}

}  // namespace gau::attention::cpu_flash
