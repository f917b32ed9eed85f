// Recompute-backward of attention (FlashAttention-2 order; docs/model.md, "Recompute backward"), in three kernels:
//   1. softmax only: D = rowsum(dO * O)                             (one warp per query row)
//   2. dV: one block per (key tile, value tile of EV columns, b*h); it loops over the query tiles
//      that see the key tile, recomputes S and the (dropped) weights A, and accumulates
//      dV += A^T dO in registers.                                   dV = A.T @ dO
//   3. dK, dQ, d_bias: one block per (key tile, b*h); per query tile it recomputes S, forms
//      dP = dO v^T by streaming 64-column slices of dO and v (e may be 2048), turns it into dS,
//      keeps dK += dS^T q in registers and adds dQ += dS k into an f32 buffer with atomics.
//      softmax: dS = P (dP - D);  relu2: dS = 2 relu(S) dP;  laplace: dS = f'(S) dP
//      (dP here is after the dropout mask: Z / (1 - p) times dO v^T).
// Splitting dV from dK/dQ keeps each block's accumulators in registers for any e <= 2048, at the
// price of computing S twice.
#include "core/error.h"
#include "layers/attention/cuda/attention_device.cuh"

namespace gau::attention::detail::cuda_impl {
namespace {

constexpr int kChunk = 64;  // columns of dO and v per slice when forming dP

template <typename T>
__global__ void __launch_bounds__(256) softmax_rowsum_kernel(TileParams p, const T* __restrict__ o,
                                                             const T* __restrict__ d_o, float* __restrict__ d_rows) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * 8 + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= p.bh * p.n_q) return;
  float acc = 0.f;
  for (int64_t c = lane; c < p.e; c += 32) acc += to_f32(o[row * p.e + c]) * to_f32(d_o[row * p.e + c]);
#pragma unroll
  for (int off = 16; off > 0; off /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, off);
  if (lane == 0) d_rows[row] = acc;
}

// The attention weight of one element before dropout (softmax: exp(x - lse); others: f(x)).
__device__ __forceinline__ float weight_of(const TileParams& p, float x, float lse_i) {
  return p.kernel == kKernelSoftmax ? expf(x - lse_i) : pointwise_kernel(p.kernel, x);
}

template <int S, int EV>
struct DvSmem {
  static constexpr int kLdQK = ld16(S), kLdO = ld16(EV), kLdP = ld16(kTile), kLdS = ld32(kTile);
  static constexpr size_t kQ = 0;
  static constexpr size_t kK = kQ + align128(kTile * kLdQK * 2);
  static constexpr size_t kDo = kK + align128(kTile * kLdQK * 2);
  static constexpr size_t kP = kDo + align128(kTile * kLdO * 2);
  static constexpr size_t kS = kP + align128(kTile * kLdP * 2);
  static constexpr size_t kLoop = kS + align128(kTile * kLdS * 4);
  static constexpr int kLdStage = ld32(EV);  // f32 staging of dV, reusing the space after the loop
  static constexpr size_t kStage = align128(kTile * kLdStage * 4);
  static constexpr size_t kBytes = kLoop > kStage ? kLoop : kStage;
};

template <typename T, int S, int EV>
__global__ void __launch_bounds__(kThreads) attention_dv_kernel(TileParams p, const T* __restrict__ q,
                                                                const T* __restrict__ k, const float* __restrict__ lse,
                                                                const T* __restrict__ d_o, T* __restrict__ d_v) {
  using L = DvSmem<S, EV>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* q_s = reinterpret_cast<T*>(smem + L::kQ);    // [64 queries][s]
  T* k_s = reinterpret_cast<T*>(smem + L::kK);    // [64 keys][s]
  T* do_s = reinterpret_cast<T*>(smem + L::kDo);  // [64 queries][EV]
  T* a_s = reinterpret_cast<T*>(smem + L::kP);    // [64 queries][64 keys] weights after dropout
  float* s_s = reinterpret_cast<float*>(smem + L::kS);  // [64 queries][64 keys]

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t c0 = static_cast<int64_t>(blockIdx.y) * EV;
  const RowContext rc = row_context(p, blockIdx.z);
  const T* q_bh = q + rc.bh * p.n_q * S;
  const T* do_bh = d_o + rc.bh * p.n_q * p.e;
  const float keep_scale = p.dropout_p > 0.f ? 1.f / (1.f - p.dropout_p) : 1.f;

  FragC dv[EV / 16];  // warp's 16 keys x EV columns
#pragma unroll
  for (int f = 0; f < EV / 16; ++f) wmma::fill_fragment(dv[f], 0.f);

  load_tile<T, kTile, S>(k_s, L::kLdQK, k + rc.bh * p.n_k * S, p.n_k, S, j0, 0, p.vec_ok);
  const bool any_key = j0 < rc.kv_end;  // a key tile made only of padding gets dV = 0
  for (int64_t i0 = any_key ? query_begin_for_key_tile(p, j0) : p.n_q; i0 < p.n_q; i0 += kTile) {
    __syncthreads();  // the previous tile's products are done with q_s, do_s, a_s
    load_tile<T, kTile, S>(q_s, L::kLdQK, q_bh, p.n_q, S, i0, 0, p.vec_ok);
    load_tile<T, kTile, EV>(do_s, L::kLdO, do_bh, p.n_q, p.e, i0, c0, p.vec_ok);
    __syncthreads();
    score_tile<T, S>(s_s, L::kLdS, q_s, k_s, L::kLdQK, warp, rc.scale);
    __syncwarp();
    for (int rr = 0; rr < 16; ++rr) {
      const int r = warp * 16 + rr;
      const int64_t i = i0 + r;
      const float lse_i = (p.kernel == kKernelSoftmax && i < p.n_q) ? lse[rc.bh * p.n_q + i] : 0.f;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int c = lane + 32 * h;
        const int64_t j = j0 + c;
        float a = 0.f;
        if (visible(p, rc, i, j)) {
          float x = s_s[r * L::kLdS + c];
          if (p.bias_table != nullptr) x += p.bias_table[bias_index(p, i - j)];
          a = weight_of(p, x, lse_i);
          if (p.dropout_p > 0.f) a = dropout_keep(p, rc.bh, i, j) ? a * keep_scale : 0.f;
        }
        a_s[r * L::kLdP + c] = from_f32<T>(a);
      }
    }
    __syncthreads();
    // dV[16 keys of this warp][EV] += A^T[keys][64 queries] dO[64 queries][EV]
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      FragAT<T> at;
      wmma::load_matrix_sync(at, a_s + kk * 16 * L::kLdP + warp * 16, L::kLdP);
#pragma unroll
      for (int f = 0; f < EV / 16; ++f) {
        FragB<T> b;
        wmma::load_matrix_sync(b, do_s + kk * 16 * L::kLdO + f * 16, L::kLdO);
        wmma::mma_sync(dv[f], at, b, dv[f]);
      }
    }
  }
  __syncthreads();  // the loop's shared memory is reused as staging

  float* stage = reinterpret_cast<float*>(smem);  // [64 keys][EV]
#pragma unroll
  for (int f = 0; f < EV / 16; ++f)
    wmma::store_matrix_sync(stage + warp * 16 * L::kLdStage + f * 16, dv[f], L::kLdStage, wmma::mem_row_major);
  __syncthreads();
  T* dv_bh = d_v + rc.bh * p.n_k * p.e;
  for (int idx = threadIdx.x; idx < kTile * EV; idx += kThreads) {
    const int r = idx / EV, c = idx % EV;
    const int64_t j = j0 + r, col = c0 + c;
    if (j < p.n_k && col < p.e) dv_bh[j * p.e + col] = from_f32<T>(stage[r * L::kLdStage + c]);
  }
}

template <int S>
struct DkSmem {
  static constexpr int kLdQK = ld16(S), kLdC = ld16(kChunk), kLdP = ld16(kTile), kLdS = ld32(kTile);
  static constexpr int kLdQ32 = ld32(S);
  static constexpr int kBiasSlots = 2 * kTile;  // rel - (i0 - j0) + 63 in [0, 127)
  static constexpr size_t kQ = 0;
  static constexpr size_t kK = kQ + align128(kTile * kLdQK * 2);
  static constexpr size_t kDo = kK + align128(kTile * kLdQK * 2);
  static constexpr size_t kV = kDo + align128(kTile * kLdC * 2);
  static constexpr size_t kDs = kV + align128(kTile * kLdC * 2);
  static constexpr size_t kS = kDs + align128(kTile * kLdP * 2);
  static constexpr size_t kDp = kS + align128(kTile * kLdS * 4);
  static constexpr size_t kDq = kDp + align128(kTile * kLdS * 4);
  static constexpr size_t kBias = kDq + align128(kTile * kLdQ32 * 4);
  static constexpr size_t kBytes = kBias + align128(kBiasSlots * 4);
};

template <typename T, int S>
__global__ void __launch_bounds__(kThreads)
    attention_dk_dq_kernel(TileParams p, const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                           const float* __restrict__ lse, const float* __restrict__ d_rows, const T* __restrict__ d_o,
                           float* __restrict__ d_q_acc, T* __restrict__ d_k, float* __restrict__ d_bias) {
  using L = DkSmem<S>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* q_s = reinterpret_cast<T*>(smem + L::kQ);     // [64 queries][s]
  T* k_s = reinterpret_cast<T*>(smem + L::kK);     // [64 keys][s]
  T* do_s = reinterpret_cast<T*>(smem + L::kDo);   // [64 queries][64-column slice of e]
  T* v_s = reinterpret_cast<T*>(smem + L::kV);     // [64 keys][64-column slice of e]
  T* ds_s = reinterpret_cast<T*>(smem + L::kDs);   // [64 queries][64 keys] dS
  float* s_s = reinterpret_cast<float*>(smem + L::kS);    // [64 queries][64 keys] scores
  float* dp_s = reinterpret_cast<float*>(smem + L::kDp);  // [64 queries][64 keys] dO v^T
  float* dq_s = reinterpret_cast<float*>(smem + L::kDq);  // [64 queries][s] dS k for this tile
  float* bias_s = reinterpret_cast<float*>(smem + L::kBias);  // d_bias by rel within the tile

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const RowContext rc = row_context(p, blockIdx.y);
  const T* q_bh = q + rc.bh * p.n_q * S;
  const T* v_bh = v + rc.bh * p.n_k * p.e;
  const T* do_bh = d_o + rc.bh * p.n_q * p.e;
  const bool softmax = p.kernel == kKernelSoftmax;
  const bool has_bias = p.bias_table != nullptr;
  const float keep_scale = p.dropout_p > 0.f ? 1.f / (1.f - p.dropout_p) : 1.f;

  FragC dk[S / 16];  // warp's 16 keys x s
#pragma unroll
  for (int f = 0; f < S / 16; ++f) wmma::fill_fragment(dk[f], 0.f);

  // Key rows past kv_end load as zeros: dQ = dS k would otherwise see 0 * (non-finite padding);
  // the CPU never reads padding keys.
  load_tile<T, kTile, S>(k_s, L::kLdQK, k + rc.bh * p.n_k * S, rc.kv_end, S, j0, 0, p.vec_ok);
  for (int t = threadIdx.x; t < L::kBiasSlots; t += kThreads) bias_s[t] = 0.f;
  const bool any_key = j0 < rc.kv_end;
  for (int64_t i0 = any_key ? query_begin_for_key_tile(p, j0) : p.n_q; i0 < p.n_q; i0 += kTile) {
    __syncthreads();  // the previous tile is done with q_s, ds_s, dq_s, bias_s
    load_tile<T, kTile, S>(q_s, L::kLdQK, q_bh, p.n_q, S, i0, 0, p.vec_ok);
    __syncthreads();
    score_tile<T, S>(s_s, L::kLdS, q_s, k_s, L::kLdQK, warp, rc.scale);

    // dP[16 queries of this warp][64 keys] = dO[rows][e] v[64 keys][e]^T, slice by slice.
    FragC dp[kTile / 16];
#pragma unroll
    for (int f = 0; f < kTile / 16; ++f) wmma::fill_fragment(dp[f], 0.f);
    for (int64_t e0 = 0; e0 < p.e; e0 += kChunk) {
      __syncthreads();  // the previous slice is consumed
      load_tile<T, kTile, kChunk>(do_s, L::kLdC, do_bh, p.n_q, p.e, i0, e0, p.vec_ok);
      load_tile<T, kTile, kChunk>(v_s, L::kLdC, v_bh, p.n_k, p.e, j0, e0, p.vec_ok);
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kChunk / 16; ++kk) {
        FragA<T> a;
        wmma::load_matrix_sync(a, do_s + warp * 16 * L::kLdC + kk * 16, L::kLdC);
#pragma unroll
        for (int f = 0; f < kTile / 16; ++f) {
          FragBT<T> bt;
          wmma::load_matrix_sync(bt, v_s + f * 16 * L::kLdC + kk * 16, L::kLdC);
          wmma::mma_sync(dp[f], a, bt, dp[f]);
        }
      }
    }
#pragma unroll
    for (int f = 0; f < kTile / 16; ++f)
      wmma::store_matrix_sync(dp_s + warp * 16 * L::kLdS + f * 16, dp[f], L::kLdS, wmma::mem_row_major);
    __syncwarp();

    // dS for this warp's 16 query rows.
    for (int rr = 0; rr < 16; ++rr) {
      const int r = warp * 16 + rr;
      const int64_t i = i0 + r;
      const bool row_ok = i < p.n_q;
      const float lse_i = (softmax && row_ok) ? lse[rc.bh * p.n_q + i] : 0.f;
      const float d_i = (softmax && row_ok) ? d_rows[rc.bh * p.n_q + i] : 0.f;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int c = lane + 32 * h;
        const int64_t j = j0 + c;
        float ds = 0.f;
        if (visible(p, rc, i, j)) {
          float x = s_s[r * L::kLdS + c];
          if (has_bias) x += p.bias_table[bias_index(p, i - j)];
          float dw = dp_s[r * L::kLdS + c];  // d(weight after dropout)
          if (p.dropout_p > 0.f) dw = dropout_keep(p, rc.bh, i, j) ? dw * keep_scale : 0.f;
          ds = softmax ? expf(x - lse_i) * (dw - d_i) : pointwise_kernel_grad(p.kernel, x) * dw;
          if (has_bias) atomicAdd(&bias_s[r - c + kTile - 1], ds);
        }
        ds_s[r * L::kLdP + c] = from_f32<T>(ds);
      }
    }
    __syncthreads();

    // dK[16 keys of this warp][s] += dS^T[keys][64 queries] q[64 queries][s]
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      FragAT<T> at;
      wmma::load_matrix_sync(at, ds_s + kk * 16 * L::kLdP + warp * 16, L::kLdP);
#pragma unroll
      for (int f = 0; f < S / 16; ++f) {
        FragB<T> b;
        wmma::load_matrix_sync(b, q_s + kk * 16 * L::kLdQK + f * 16, L::kLdQK);
        wmma::mma_sync(dk[f], at, b, dk[f]);
      }
    }
    // dQ[16 queries of this warp][s] = scale * dS[rows][64 keys] k[64 keys][s]
#pragma unroll
    for (int f = 0; f < S / 16; ++f) {
      FragC acc;
      wmma::fill_fragment(acc, 0.f);
#pragma unroll
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragA<T> a;
        FragB<T> b;
        wmma::load_matrix_sync(a, ds_s + warp * 16 * L::kLdP + kk * 16, L::kLdP);
        wmma::load_matrix_sync(b, k_s + kk * 16 * L::kLdQK + f * 16, L::kLdQK);
        wmma::mma_sync(acc, a, b, acc);
      }
#pragma unroll
      for (int t = 0; t < acc.num_elements; ++t) acc.x[t] *= rc.scale;
      wmma::store_matrix_sync(dq_s + warp * 16 * L::kLdQ32 + f * 16, acc, L::kLdQ32, wmma::mem_row_major);
    }
    __syncthreads();
    float* dq_bh = d_q_acc + rc.bh * p.n_q * S;
    for (int idx = threadIdx.x; idx < kTile * S; idx += kThreads) {
      const int r = idx / S, c = idx % S;
      if (i0 + r < p.n_q) atomicAdd(&dq_bh[(i0 + r) * S + c], dq_s[r * L::kLdQ32 + c]);
    }
    if (has_bias) {
      for (int t = threadIdx.x; t < L::kBiasSlots - 1; t += kThreads) {
        const float val = bias_s[t];
        if (val != 0.f) atomicAdd(&d_bias[bias_index(p, i0 - j0 + t - (kTile - 1))], val);
        bias_s[t] = 0.f;
      }
    }
  }
  __syncthreads();  // the loop's shared memory is reused as staging

  float* stage = reinterpret_cast<float*>(smem);  // [64 keys][s]
#pragma unroll
  for (int f = 0; f < S / 16; ++f) {
#pragma unroll
    for (int t = 0; t < dk[f].num_elements; ++t) dk[f].x[t] *= rc.scale;
    wmma::store_matrix_sync(stage + warp * 16 * L::kLdQ32 + f * 16, dk[f], L::kLdQ32, wmma::mem_row_major);
  }
  __syncthreads();
  T* dk_bh = d_k + rc.bh * p.n_k * S;
  for (int idx = threadIdx.x; idx < kTile * S; idx += kThreads) {
    const int r = idx / S, c = idx % S;
    if (j0 + r < p.n_k) dk_bh[(j0 + r) * S + c] = from_f32<T>(stage[r * L::kLdQ32 + c]);
  }
}

template <typename T>
__global__ void f32_to_half_kernel(const float* __restrict__ src, T* __restrict__ dst, int64_t n) {
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[idx] = from_f32<T>(src[idx]);
}

void check_launch(const char* what, size_t smem_bytes) {
  const cudaError_t err = cudaGetLastError();
  GAU_CHECK(err == cudaSuccess, "attention backward (CUDA): launch of ", what, " failed (", smem_bytes,
            " bytes of shared memory): ", cudaGetErrorString(err));
}

template <typename Kernel>
void allow_smem(Kernel kernel, size_t bytes, const char* what) {
  const cudaError_t err =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  GAU_CHECK(err == cudaSuccess, "attention backward (CUDA): cudaFuncSetAttribute(", what, ", ", bytes,
            " bytes of shared memory) failed: ", cudaGetErrorString(err));
}

template <typename T, int S, int EV>
void launch_dv(const TileParams& p, const void* q, const void* k, const BackwardBuffers& buf, cudaStream_t stream) {
  constexpr size_t bytes = DvSmem<S, EV>::kBytes;
  auto kernel = attention_dv_kernel<T, S, EV>;
  allow_smem(kernel, bytes, "dV kernel");
  const dim3 grid(static_cast<unsigned>((p.n_k + kTile - 1) / kTile), static_cast<unsigned>((p.e + EV - 1) / EV),
                  static_cast<unsigned>(p.bh));
  kernel<<<grid, kThreads, bytes, stream>>>(p, static_cast<const T*>(q), static_cast<const T*>(k), buf.lse,
                                            static_cast<const T*>(buf.d_o), static_cast<T*>(buf.d_v));
  check_launch("dV kernel", bytes);
}

template <typename T, int S>
void launch_s(const TileParams& p, const void* q, const void* k, const void* v, const BackwardBuffers& buf,
              cudaStream_t stream) {
  if (p.e > 64) {
    launch_dv<T, S, 128>(p, q, k, buf, stream);
  } else {
    launch_dv<T, S, 64>(p, q, k, buf, stream);
  }
  constexpr size_t bytes = DkSmem<S>::kBytes;
  auto kernel = attention_dk_dq_kernel<T, S>;
  allow_smem(kernel, bytes, "dK/dQ kernel");
  const dim3 grid(static_cast<unsigned>((p.n_k + kTile - 1) / kTile), static_cast<unsigned>(p.bh));
  kernel<<<grid, kThreads, bytes, stream>>>(p, static_cast<const T*>(q), static_cast<const T*>(k),
                                            static_cast<const T*>(v), buf.lse, buf.d_rows,
                                            static_cast<const T*>(buf.d_o), buf.d_q_acc, static_cast<T*>(buf.d_k),
                                            buf.d_bias);
  check_launch("dK/dQ kernel", bytes);
}

template <typename T>
void launch_backward_typed(const TileParams& p, const void* q, const void* k, const void* v, const BackwardBuffers& buf,
                           cudaStream_t stream) {
  if (p.kernel == kKernelSoftmax) {
    const int64_t rows = p.bh * p.n_q;
    softmax_rowsum_kernel<T><<<static_cast<unsigned>((rows + 7) / 8), 256, 0, stream>>>(
        p, static_cast<const T*>(buf.o), static_cast<const T*>(buf.d_o), buf.d_rows);
    check_launch("rowsum(dO * O) kernel", 0);
  }
  if (p.s == 64) {
    launch_s<T, 64>(p, q, k, v, buf, stream);
  } else {
    launch_s<T, 128>(p, q, k, v, buf, stream);
  }
  const int64_t n = p.bh * p.n_q * p.s;
  const int64_t blocks = (n + 255) / 256 < 65536 ? (n + 255) / 256 : 65536;
  f32_to_half_kernel<T><<<static_cast<unsigned>(blocks), 256, 0, stream>>>(buf.d_q_acc, static_cast<T*>(buf.d_q), n);
  check_launch("dQ conversion kernel", 0);
}

}  // namespace

void launch_backward(const TileParams& p, const void* q, const void* k, const void* v, const BackwardBuffers& buf,
                     cudaStream_t stream) {
  GAU_CHECK(p.s == 64 || p.s == 128, "attention backward (CUDA): s must be 64 or 128, got ", p.s);
  GAU_CHECK(p.bh <= 65535, "attention backward (CUDA): b*h must be <= 65535, got ", p.bh);
  if (p.bh == 0 || p.n_k == 0 || p.n_q == 0) return;  // dot_product_attention() rejects empty inputs
  if (p.type == ElemType::bf16) {
    launch_backward_typed<__nv_bfloat16>(p, q, k, v, buf, stream);
  } else {
    launch_backward_typed<__half>(p, q, k, v, buf, stream);
  }
}

}  // namespace gau::attention::detail::cuda_impl
