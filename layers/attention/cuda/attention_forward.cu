// Forward attention kernel: one block per (query tile of 64, value tile of EV columns, b*h).
//
// For each key tile the block recomputes S = q k^T * scale + bias (it is cheap next to P v when
// s <= EV, and it keeps the f32 accumulator of a 64 x EV output tile in shared memory instead of
// a 64 x e one), applies mask and kernel, and adds P v into the output tile. Softmax keeps the
// running max m and sum l per row (online softmax); every value tile recomputes the same m and l,
// and value tile 0 writes LSE. PyTorch equivalent: o = softmax(q @ k.T * scale + bias) @ v.
#include "core/error.h"
#include "layers/attention/cuda/attention_device.cuh"

namespace gau::attention::detail::cuda_impl {
namespace {

template <int S, int EV>
struct ForwardSmem {
  static constexpr int kLdQK = ld16(S), kLdV = ld16(EV), kLdP = ld16(kTile);
  static constexpr int kLdS = ld32(kTile), kLdO = ld32(EV);
  static constexpr size_t kQ = 0;
  static constexpr size_t kK = kQ + align128(kTile * kLdQK * 2);
  static constexpr size_t kV = kK + align128(kTile * kLdQK * 2);
  static constexpr size_t kP = kV + align128(kTile * kLdV * 2);
  static constexpr size_t kS = kP + align128(kTile * kLdP * 2);
  static constexpr size_t kO = kS + align128(kTile * kLdS * 4);
  static constexpr size_t kRow = kO + align128(kTile * kLdO * 4);  // m, l, alpha: 3 x 64 floats
  static constexpr size_t kBytes = kRow + align128(3 * kTile * 4);
};

template <typename T, int S, int EV>
__global__ void __launch_bounds__(kThreads) attention_forward_kernel(TileParams p, const T* __restrict__ q,
                                                                     const T* __restrict__ k, const T* __restrict__ v,
                                                                     T* __restrict__ o, float* __restrict__ lse) {
  using L = ForwardSmem<S, EV>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* q_s = reinterpret_cast<T*>(smem + L::kQ);      // [64 queries][s]
  T* k_s = reinterpret_cast<T*>(smem + L::kK);      // [64 keys][s]
  T* v_s = reinterpret_cast<T*>(smem + L::kV);      // [64 keys][EV]
  T* p_s = reinterpret_cast<T*>(smem + L::kP);      // [64 queries][64 keys] weights after dropout
  float* s_s = reinterpret_cast<float*>(smem + L::kS);  // [64 queries][64 keys] scores
  float* o_s = reinterpret_cast<float*>(smem + L::kO);  // [64 queries][EV] accumulator
  float* m_s = reinterpret_cast<float*>(smem + L::kRow);
  float* l_s = m_s + kTile;
  float* alpha_s = l_s + kTile;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t i0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t c0 = static_cast<int64_t>(blockIdx.y) * EV;
  const RowContext rc = row_context(p, blockIdx.z);
  const T* q_bh = q + rc.bh * p.n_q * S;
  const T* k_bh = k + rc.bh * p.n_k * S;
  const T* v_bh = v + rc.bh * p.n_k * p.e;
  const bool softmax = p.kernel == kKernelSoftmax;
  const float keep_scale = p.dropout_p > 0.f ? 1.f / (1.f - p.dropout_p) : 1.f;

  load_tile<T, kTile, S>(q_s, L::kLdQK, q_bh, p.n_q, S, i0, 0, p.vec_ok);
  for (int idx = threadIdx.x; idx < kTile * L::kLdO; idx += kThreads) o_s[idx] = 0.f;
  for (int r = threadIdx.x; r < kTile; r += kThreads) {
    m_s[r] = -INFINITY;
    l_s[r] = 0.f;
  }

  const int64_t key_end = key_end_for_query_tile(p, rc, i0);
  for (int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    __syncthreads();  // the previous tile's products are done with k_s, v_s, p_s
    load_tile<T, kTile, S>(k_s, L::kLdQK, k_bh, p.n_k, S, j0, 0, p.vec_ok);
    // Value rows past kv_end load as zeros: like the CPU (which never reads padding keys), a
    // non-finite padding row must not turn its zero weight into NaN in P v.
    load_tile<T, kTile, EV>(v_s, L::kLdV, v_bh, rc.kv_end, p.e, j0, c0, p.vec_ok);
    __syncthreads();

    score_tile<T, S>(s_s, L::kLdS, q_s, k_s, L::kLdQK, warp, rc.scale);
    __syncwarp();

    // Mask, bias, kernel and dropout for this warp's 16 rows; lanes take columns lane, lane + 32.
    for (int rr = 0; rr < 16; ++rr) {
      const int r = warp * 16 + rr;
      const int64_t i = i0 + r;
      float x[2];
      bool ok[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int c = lane + 32 * h;
        const int64_t j = j0 + c;
        ok[h] = visible(p, rc, i, j);
        x[h] = s_s[r * L::kLdS + c];
        if (ok[h] && p.bias_table != nullptr) x[h] += p.bias_table[bias_index(p, i - j)];
      }
      float w[2];
      if (softmax) {
        float tile_max = fmaxf(ok[0] ? x[0] : -INFINITY, ok[1] ? x[1] : -INFINITY);
#pragma unroll
        for (int off = 16; off > 0; off /= 2) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, off));
        const float m_old = m_s[r];
        const float m_new = fmaxf(m_old, tile_max);
        const float m_use = m_new == -INFINITY ? 0.f : m_new;  // an all-masked row so far: weights 0
        w[0] = ok[0] ? expf(x[0] - m_use) : 0.f;
        w[1] = ok[1] ? expf(x[1] - m_use) : 0.f;
        float sum = w[0] + w[1];
#pragma unroll
        for (int off = 16; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
        __syncwarp();
        if (lane == 0) {
          const float alpha = m_old == -INFINITY ? 0.f : expf(m_old - m_use);
          alpha_s[r] = alpha;
          l_s[r] = l_s[r] * alpha + sum;
          m_s[r] = m_new;
        }
      } else {
        w[0] = ok[0] ? pointwise_kernel(p.kernel, x[0]) : 0.f;
        w[1] = ok[1] ? pointwise_kernel(p.kernel, x[1]) : 0.f;
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int c = lane + 32 * h;
        float wd = w[h];
        if (p.dropout_p > 0.f && ok[h]) wd = dropout_keep(p, rc.bh, i, j0 + c) ? wd * keep_scale : 0.f;
        p_s[r * L::kLdP + c] = from_f32<T>(wd);
      }
      if (softmax) {
        __syncwarp();
        const float alpha = alpha_s[r];
        for (int c = lane; c < EV; c += 32) o_s[r * L::kLdO + c] *= alpha;
      }
    }
    __syncthreads();

    // o[16 rows of this warp][EV] += p[rows][64 keys] v[64 keys][EV]
#pragma unroll
    for (int cf = 0; cf < EV / 16; ++cf) {
      FragC acc;
      float* o_ptr = o_s + warp * 16 * L::kLdO + cf * 16;
      wmma::load_matrix_sync(acc, o_ptr, L::kLdO, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragA<T> a;
        FragB<T> b;
        wmma::load_matrix_sync(a, p_s + warp * 16 * L::kLdP + kk * 16, L::kLdP);
        wmma::load_matrix_sync(b, v_s + kk * 16 * L::kLdV + cf * 16, L::kLdV);
        wmma::mma_sync(acc, a, b, acc);
      }
      wmma::store_matrix_sync(o_ptr, acc, L::kLdO, wmma::mem_row_major);
    }
  }
  __syncthreads();

  // o = acc / l (softmax) or acc; rows past n_q and columns past e are not stored.
  T* o_bh = o + rc.bh * p.n_q * p.e;
  for (int idx = threadIdx.x; idx < kTile * EV; idx += kThreads) {
    const int r = idx / EV, c = idx % EV;
    const int64_t i = i0 + r, col = c0 + c;
    if (i >= p.n_q || col >= p.e) continue;
    float val = o_s[r * L::kLdO + c];
    if (softmax) val = l_s[r] > 0.f ? val / l_s[r] : 0.f;
    o_bh[i * p.e + col] = from_f32<T>(val);
  }
  if (softmax && blockIdx.y == 0) {
    for (int r = threadIdx.x; r < kTile; r += kThreads) {
      const int64_t i = i0 + r;
      if (i < p.n_q) lse[rc.bh * p.n_q + i] = l_s[r] > 0.f ? m_s[r] + logf(l_s[r]) : INFINITY;  // as the CPU: exp(S - lse) = 0
    }
  }
}

template <typename T, int S, int EV>
void launch_forward_typed(const TileParams& p, const void* q, const void* k, const void* v, void* o, float* lse,
                          cudaStream_t stream) {
  constexpr size_t bytes = ForwardSmem<S, EV>::kBytes;
  auto kernel = attention_forward_kernel<T, S, EV>;
  cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  GAU_CHECK(err == cudaSuccess, "attention forward (CUDA): cudaFuncSetAttribute(", bytes,
            " bytes of shared memory) failed: ", cudaGetErrorString(err));
  const dim3 grid(static_cast<unsigned>((p.n_q + kTile - 1) / kTile), static_cast<unsigned>((p.e + EV - 1) / EV),
                  static_cast<unsigned>(p.bh));
  kernel<<<grid, kThreads, bytes, stream>>>(p, static_cast<const T*>(q), static_cast<const T*>(k),
                                            static_cast<const T*>(v), static_cast<T*>(o), lse);
  err = cudaGetLastError();
  GAU_CHECK(err == cudaSuccess, "attention forward (CUDA): kernel launch failed (grid ", grid.x, "x", grid.y, "x",
            grid.z, ", ", bytes, " bytes of shared memory): ", cudaGetErrorString(err));
}

template <typename T>
void launch_for_type(const TileParams& p, const void* q, const void* k, const void* v, void* o, float* lse,
                     cudaStream_t stream) {
  // A value tile of 128 columns halves the recomputation of S against 64 once e > 64.
  const bool wide = p.e > 64;
  if (p.s == 64) {
    wide ? launch_forward_typed<T, 64, 128>(p, q, k, v, o, lse, stream)
         : launch_forward_typed<T, 64, 64>(p, q, k, v, o, lse, stream);
  } else {
    wide ? launch_forward_typed<T, 128, 128>(p, q, k, v, o, lse, stream)
         : launch_forward_typed<T, 128, 64>(p, q, k, v, o, lse, stream);
  }
}

}  // namespace

void launch_forward(const TileParams& p, const void* q, const void* k, const void* v, void* o, float* lse,
                    cudaStream_t stream) {
  GAU_CHECK(p.s == 64 || p.s == 128, "attention forward (CUDA): s must be 64 or 128, got ", p.s);
  GAU_CHECK(p.bh <= 65535, "attention forward (CUDA): b*h must be <= 65535, got ", p.bh);
  if (p.n_q == 0 || p.e == 0 || p.bh == 0) return;
  if (p.type == ElemType::bf16) {
    launch_for_type<__nv_bfloat16>(p, q, k, v, o, lse, stream);
  } else {
    launch_for_type<__half>(p, q, k, v, o, lse, stream);
  }
}

}  // namespace gau::attention::detail::cuda_impl
