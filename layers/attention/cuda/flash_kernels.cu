// CUDA kernels of FLASH's global (linear) part (launchers in flash_kernels.h): per-chunk
// K_g^T V_g outer products, the scan over chunks, and the per-chunk products with a state.
// Tiles of 64 x 64 outputs per block of 16 x 16 threads (4 x 4 each), operands staged in shared
// memory 16 deep; f32 accumulation, states in f32, bf16/f16 storage.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/cuda/cuda_check.h"
#include "layers/attention/cuda/flash_kernels.h"
#include "layers/attention/flash_backend.h"

namespace gau::attention::detail::flash_cuda {
namespace {

constexpr int kTile = 64;  // outputs per block side
constexpr int kDepth = 16;  // reduction slice staged per step

__device__ __forceinline__ float load(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ float load(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void store(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }
__device__ __forceinline__ void store(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }

__global__ void chunk_meta_kernel(const int64_t* __restrict__ lengths, int64_t b, int64_t G, int64_t n, int64_t c,
                                  bool causal, LinearNorm norm, double norm_n, int64_t* __restrict__ keys,
                                  float* __restrict__ inv) {
  const int64_t bg = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (bg >= b * G) return;
  const int64_t row = bg / G, g = bg % G;
  int64_t valid = lengths ? lengths[row] : n;
  valid = valid < 0 ? 0 : (valid > n ? n : valid);
  const int64_t rows = n - g * c < c ? n - g * c : c;
  int64_t k = valid - g * c;
  keys[bg] = k < 0 ? 0 : (k > rows ? rows : k);
  inv[bg] = static_cast<float>(flash_inv_norm(causal, norm, norm_n, c, g, valid));
}

// out[bg] = scale * sum_{r < limit} x_r^T y_r.   PyTorch: out = scale * x[:limit].T @ y[:limit]
template <typename T>
__global__ void __launch_bounds__(256) chunk_outer_kernel(int64_t c, int64_t kx, int64_t ky,
                                                          const T* __restrict__ x, const T* __restrict__ y,
                                                          const float* __restrict__ scale,
                                                          const int64_t* __restrict__ limit, float* __restrict__ out) {
  __shared__ float xs[kDepth][kTile + 1];
  __shared__ float ys[kDepth][kTile + 1];
  const int64_t bg = blockIdx.z, i0 = int64_t(blockIdx.y) * kTile, j0 = int64_t(blockIdx.x) * kTile;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t rows = limit ? limit[bg] : c;
  const T* xb = x + bg * c * kx;
  const T* yb = y + bg * c * ky;
  float acc[4][4] = {};
  for (int64_t r0 = 0; r0 < rows; r0 += kDepth) {
    for (int t = threadIdx.x; t < kDepth * kTile; t += 256) {
      const int rr = t / kTile, cc = t % kTile;
      const int64_t r = r0 + rr;
      xs[rr][cc] = (r < rows && i0 + cc < kx) ? load(xb, r * kx + i0 + cc) : 0.f;
      ys[rr][cc] = (r < rows && j0 + cc < ky) ? load(yb, r * ky + j0 + cc) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int rr = 0; rr < kDepth; ++rr) {
      float a[4], bv[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) a[q] = xs[rr][ty * 4 + q], bv[q] = ys[rr][tx * 4 + q];
#pragma unroll
      for (int p = 0; p < 4; ++p)
#pragma unroll
        for (int q = 0; q < 4; ++q) acc[p][q] += a[p] * bv[q];
    }
    __syncthreads();
  }
  const float sc = scale ? scale[bg] : 1.f;
  float* ob = out + bg * kx * ky;
#pragma unroll
  for (int p = 0; p < 4; ++p) {
    const int64_t i = i0 + ty * 4 + p;
    if (i >= kx) continue;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int64_t j = j0 + tx * 4 + q;
      if (j < ky) ob[i * ky + j] = sc * acc[p][q];
    }
  }
}

// Exclusive prefix (or suffix) over chunks, one thread per (row, element): coalesced across threads.
__global__ void chunk_scan_kernel(int64_t b, int64_t G, int64_t len, bool reverse, bool total,
                                  float* __restrict__ states) {
  const int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (t >= b * len) return;
  const int64_t row = t / len, j = t % len;
  float* base = states + row * G * len + j;
  float run = 0.f;
  for (int64_t k = 0; k < G; ++k) {
    const int64_t g = reverse ? G - 1 - k : k;
    const float v = base[g * len];
    if (!total) base[g * len] = run;
    run += v;
  }
  if (total) base[0] = run;
}

// out = addend + alpha x op(M) on rows < limit.   PyTorch: out[:limit] = addend[:limit] + alpha * x[:limit] @ M
template <typename T>
__global__ void __launch_bounds__(256) chunk_apply_kernel(int64_t G, int64_t c, int64_t k, int64_t w,
                                                          const T* __restrict__ x, const float* __restrict__ m,
                                                          bool per_chunk_m, bool trans_m,
                                                          const float* __restrict__ alpha,
                                                          const int64_t* __restrict__ limit,
                                                          const T* __restrict__ addend, T* __restrict__ out) {
  __shared__ float xs[kTile][kDepth + 1];
  __shared__ float ms[kDepth][kTile + 1];
  const int64_t bg = blockIdx.z, r0 = int64_t(blockIdx.y) * kTile, j0 = int64_t(blockIdx.x) * kTile;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t rows = limit ? limit[bg] : c;
  const float a_scale = alpha ? alpha[bg] : 1.f;
  const T* xb = x + bg * c * k;
  const float* mb = m + (per_chunk_m ? bg : bg / G) * k * w;
  float acc[4][4] = {};
  if (a_scale != 0.f && r0 < rows) {
    for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
      for (int t = threadIdx.x; t < kDepth * kTile; t += 256) {
        const int rr = t / kDepth, kk = t % kDepth;  // x tile [64 rows, 16 deep]
        const int64_t r = r0 + rr, kc = k0 + kk;
        xs[rr][kk] = (r < rows && kc < k) ? load(xb, r * k + kc) : 0.f;
        const int mk = t / kTile, mj = t % kTile;  // M tile [16 deep, 64 cols]
        const int64_t km = k0 + mk, j = j0 + mj;
        float mv = 0.f;
        if (km < k && j < w) mv = trans_m ? mb[j * k + km] : mb[km * w + j];
        ms[mk][mj] = mv;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kDepth; ++kk) {
        float a[4], bv[4];
#pragma unroll
        for (int q = 0; q < 4; ++q) a[q] = xs[ty * 4 + q][kk], bv[q] = ms[kk][tx * 4 + q];
#pragma unroll
        for (int p = 0; p < 4; ++p)
#pragma unroll
          for (int q = 0; q < 4; ++q) acc[p][q] += a[p] * bv[q];
      }
      __syncthreads();
    }
  }
  const int64_t obase = bg * c * w;
#pragma unroll
  for (int p = 0; p < 4; ++p) {
    const int64_t r = r0 + ty * 4 + p;
    if (r >= c) continue;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int64_t j = j0 + tx * 4 + q;
      if (j >= w) continue;
      const int64_t idx = obase + r * w + j;
      const float base = addend ? load(addend, idx) : 0.f;
      store(out, idx, r < rows ? base + a_scale * acc[p][q] : base);
    }
  }
}

dim3 tiles(int64_t cols, int64_t rows, int64_t batch) {
  return dim3(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile),
              static_cast<unsigned>(batch));
}

}  // namespace

void launch_chunk_meta(const int64_t* lengths, int64_t b, int64_t G, int64_t n, int64_t c, bool causal,
                       LinearNorm norm, double norm_n, int64_t* keys, float* inv, cudaStream_t stream) {
  const int64_t total = b * G;
  if (total == 0) return;
  chunk_meta_kernel<<<static_cast<unsigned>((total + 255) / 256), 256, 0, stream>>>(lengths, b, G, n, c, causal, norm,
                                                                                   norm_n, keys, inv);
  GAU_CUDA_CHECK_LAUNCH();
}

void launch_chunk_outer(Elem t, int64_t bG, int64_t c, int64_t kx, int64_t ky, const void* x, const void* y,
                        const float* scale, const int64_t* limit, float* out, cudaStream_t stream) {
  if (bG == 0) return;
  const dim3 grid = tiles(ky, kx, bG);
  if (t == Elem::bf16) {
    chunk_outer_kernel<__nv_bfloat16><<<grid, 256, 0, stream>>>(c, kx, ky, static_cast<const __nv_bfloat16*>(x),
                                                                static_cast<const __nv_bfloat16*>(y), scale, limit,
                                                                out);
  } else {
    chunk_outer_kernel<__half><<<grid, 256, 0, stream>>>(c, kx, ky, static_cast<const __half*>(x),
                                                         static_cast<const __half*>(y), scale, limit, out);
  }
  GAU_CUDA_CHECK_LAUNCH();
}

void launch_chunk_scan(int64_t b, int64_t G, int64_t len, bool reverse, bool total, float* states,
                       cudaStream_t stream) {
  const int64_t threads = b * len;
  if (threads == 0) return;
  chunk_scan_kernel<<<static_cast<unsigned>((threads + 255) / 256), 256, 0, stream>>>(b, G, len, reverse, total,
                                                                                     states);
  GAU_CUDA_CHECK_LAUNCH();
}

void launch_chunk_apply(Elem t, int64_t bG, int64_t G, int64_t c, int64_t k, int64_t w, const void* x,
                        const float* m, bool per_chunk_m, bool trans_m, const float* alpha, const int64_t* limit,
                        const void* addend, void* out, cudaStream_t stream) {
  if (bG == 0) return;
  const dim3 grid = tiles(w, c, bG);
  if (t == Elem::bf16) {
    using T = __nv_bfloat16;
    chunk_apply_kernel<T><<<grid, 256, 0, stream>>>(G, c, k, w, static_cast<const T*>(x), m, per_chunk_m, trans_m,
                                                    alpha, limit, static_cast<const T*>(addend), static_cast<T*>(out));
  } else {
    using T = __half;
    chunk_apply_kernel<T><<<grid, 256, 0, stream>>>(G, c, k, w, static_cast<const T*>(x), m, per_chunk_m, trans_m,
                                                    alpha, limit, static_cast<const T*>(addend), static_cast<T*>(out));
  }
  GAU_CUDA_CHECK_LAUNCH();
}

}  // namespace gau::attention::detail::flash_cuda
