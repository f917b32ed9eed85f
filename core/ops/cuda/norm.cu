// CUDA norm kernels. Forward: one warp per row up to d = 1024, one block per row beyond (as the
// softmax rows kernel). Backward: each block walks a contiguous chunk of rows, one row at a time
// with block reductions, and keeps its partial d_w, d_b per column (each column owned by one
// thread, so no atomics) in shared memory when 2 d values fit, in its row of the global partial
// buffer otherwise; a second kernel sums the blocks' partials in block order: deterministic.
#include <algorithm>

#include "core/dispatch.h"
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/cuda/loops.cuh"
#include "core/ops/factory.h"
#include "core/ops/norm_kernels.h"

namespace gau::ops::cuda {
namespace {

template <bool kBlock, typename A>
__device__ __forceinline__ A norm_group_sum(A v, A* smem) {
  if constexpr (kBlock)
    return block_sum(v, smem);
  else
    return warp_sum(v);
}

// y = (x - mean) rstd w + b per row; mean (layer) and rstd saved.
//   torch: F.layer_norm(x, (d,), w, b, eps) / F.rms_norm(x, (d,), w, eps) / g * x / x.norm(-1).clamp(eps)
template <NormKind K, typename T, bool kBlock>
__global__ void norm_forward_kernel(const T* x, const T* w, const T* b, T* y, acc_t<T>* mean, acc_t<T>* rstd,
                                    int64_t rows, int64_t d, acc_t<T> eps) {
  using A = acc_t<T>;
  __shared__ A smem[32];
  const int lane = kBlock ? threadIdx.x : threadIdx.x % 32;
  const int group_size = kBlock ? blockDim.x : 32;
  const int64_t groups = kBlock ? 1 : blockDim.x / 32;
  const int64_t first = blockIdx.x * groups + (kBlock ? 0 : threadIdx.x / 32);
  for (int64_t row = first; row < rows; row += gridDim.x * groups) {
    const T* xr = x + row * d;
    T* yr = y + row * d;
    A m = 0;
    if constexpr (K == NormKind::layer) {
      A s = 0;
      for (int64_t j = lane; j < d; j += group_size) s += to_acc(xr[j]);
      m = norm_group_sum<kBlock>(s, smem) / A(d);
    }
    A sq = 0;
    for (int64_t j = lane; j < d; j += group_size) {
      const A v = to_acc(xr[j]) - m;
      sq += v * v;
    }
    const A rs = norm_rstd<K>(norm_group_sum<kBlock>(sq, smem), d, eps);
    if (lane == 0) {
      if constexpr (K == NormKind::layer) mean[row] = m;
      rstd[row] = rs;
    }
    if constexpr (K == NormKind::scale) {
      const A scale = rs * to_acc(w[0]);
      for (int64_t j = lane; j < d; j += group_size) yr[j] = T(to_acc(xr[j]) * scale);
    } else {
      for (int64_t j = lane; j < d; j += group_size) {
        const A wj = w ? to_acc(w[j]) : A(1), bj = b ? to_acc(b[j]) : A(0);
        yr[j] = T((to_acc(xr[j]) - m) * rs * wj + bj);
      }
    }
  }
}

// d_x = rstd (g - c1 - xhat c2), g = d_y w (norm_coefs). With `partial` ([gridDim.x, 2, d]), the
// block's d_w = sum d_y xhat and d_b = sum d_y over its rows; with `row_dot` (scale), the row sums
// sum_j d_y xhat. Dynamic shared memory holds the block's 2 d accumulators when smem_acc.
template <NormKind K, typename T>
__global__ void norm_backward_kernel(const T* dy, const T* x, const T* w, const acc_t<T>* mean, const acc_t<T>* rstd,
                                     T* dx, acc_t<T>* partial, bool smem_acc, acc_t<T>* row_dot, int64_t rows,
                                     int64_t d, acc_t<T> eps) {
  using A = acc_t<T>;
  __shared__ A red[32];
  extern __shared__ __align__(16) unsigned char acc_raw[];
  A* acc = partial == nullptr ? nullptr : (smem_acc ? reinterpret_cast<A*>(acc_raw) : partial + blockIdx.x * 2 * d);
  const int tid = threadIdx.x, nt = blockDim.x;
  if (acc)
    for (int64_t j = tid; j < d; j += nt) acc[j] = 0, acc[d + j] = 0;
  const int64_t r0 = rows * blockIdx.x / gridDim.x, r1 = rows * (blockIdx.x + 1) / gridDim.x;
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = x + r * d;
    const T* gr = dy + r * d;
    T* dr = dx + r * d;
    const A m = K == NormKind::layer ? mean[r] : A(0), rs = rstd[r];
    A sum_g = 0, sum_gx = 0;  // scale: sum_gx is sum_j d_y xhat, times g below
    for (int64_t j = tid; j < d; j += nt) {
      const A xh = (to_acc(xr[j]) - m) * rs;
      const A g = to_acc(gr[j]) * (K != NormKind::scale && w ? to_acc(w[j]) : A(1));
      sum_g += g;
      sum_gx += g * xh;
    }
    if constexpr (K == NormKind::layer) sum_g = block_sum(sum_g, red);
    sum_gx = block_sum(sum_gx, red);
    if constexpr (K == NormKind::scale) {
      if (row_dot && tid == 0) row_dot[r] = sum_gx;
      sum_gx *= to_acc(w[0]);
    }
    const NormCoefs<A> c = norm_coefs<K>(sum_g, sum_gx, rs, d, eps);
    const A w0 = K == NormKind::scale ? to_acc(w[0]) : A(1);
    for (int64_t j = tid; j < d; j += nt) {
      const A gy = to_acc(gr[j]), xh = (to_acc(xr[j]) - m) * rs;
      const A g = gy * (K == NormKind::scale ? w0 : (w ? to_acc(w[j]) : A(1)));
      dr[j] = T(rs * (g - c.c1 - xh * c.c2));
      if (acc) acc[j] += gy * xh, acc[d + j] += gy;
    }
  }
  if (acc && smem_acc) {
    A* out = partial + blockIdx.x * 2 * d;
    for (int64_t j = tid; j < d; j += nt) out[j] = acc[j], out[d + j] = acc[d + j];
  }
}

// d_w[j] = sum_b partial[b, 0, j], d_b[j] = sum_b partial[b, 1, j], in block order.
template <typename T>
__global__ void param_reduce_kernel(const acc_t<T>* partial, int64_t blocks, int64_t d, T* dw, T* db) {
  using A = acc_t<T>;
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < 2 * d; j += int64_t(gridDim.x) * blockDim.x) {
    A s = 0;
    for (int64_t b = 0; b < blocks; ++b) s += partial[b * 2 * d + j];
    if (j < d)
      dw[j] = T(s);
    else
      db[j - d] = T(s);
  }
}

template <typename T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.data_ptr()) : nullptr;
}
template <typename T>
T* mut_ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.data_ptr()) : nullptr;
}

DType acc_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

}  // namespace

NormOutput norm_forward(NormKind kind, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  DeviceGuard guard(x.device());
  const int64_t rows = x.size(0), d = x.size(1);
  const DType acc = acc_dtype(x.dtype());
  NormOutput out{Tensor::empty(x.shape(), x.dtype(), x.device()),  // [rows, d]
                 kind == NormKind::layer ? Tensor::empty({rows}, acc, x.device()) : Tensor(),
                 Tensor::empty({rows}, acc, x.device())};
  if (rows == 0) return out;
  cudaStream_t stream = current_cuda_stream(x.device());
  const bool block_per_row = d > 1024;
  const int threads = 256;
  const int64_t per_block = block_per_row ? 1 : threads / 32;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((rows + per_block - 1) / per_block, 65535 * 16));
  dispatch_floating(x.dtype(), "norm_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    dispatch_kind(kind, [&](auto k) {
      constexpr NormKind K = decltype(k)::value;
      auto args = [&](auto kernel) {
        kernel<<<blocks, threads, 0, stream>>>(ptr_or_null<T>(x), ptr_or_null<T>(weight), ptr_or_null<T>(bias),
                                               mut_ptr<T>(out.y), mut_ptr<A>(out.mean), mut_ptr<A>(out.rstd), rows, d,
                                               static_cast<A>(eps));
      };
      if (block_per_row)
        args(norm_forward_kernel<K, T, true>);
      else
        args(norm_forward_kernel<K, T, false>);
    });
    GAU_CUDA_CHECK_LAUNCH();
  });
  return out;
}

NormGrads norm_backward(NormKind kind, const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                        const Tensor& rstd, double eps, bool param_grads) {
  DeviceGuard guard(x.device());
  const int64_t rows = x.size(0), d = x.size(1);
  const DType acc = acc_dtype(x.dtype());
  NormGrads g{Tensor::empty(x.shape(), x.dtype(), x.device()), Tensor(), Tensor()};  // d_x [rows, d]
  const bool per_dim = param_grads && kind != NormKind::scale;
  if (param_grads && kind == NormKind::scale) g.d_weight = Tensor::empty({rows}, acc, x.device());
  if (per_dim) {
    g.d_weight = Tensor::empty({d}, x.dtype(), x.device());
    g.d_bias = Tensor::empty({d}, x.dtype(), x.device());
  }
  if (rows == 0) {
    if (per_dim) g.d_weight = zeros({d}, x.dtype(), x.device()), g.d_bias = zeros({d}, x.dtype(), x.device());
    return g;
  }
  cudaStream_t stream = current_cuda_stream(x.device());
  int sms = 0;
  GAU_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, x.device().index));
  const int64_t blocks = std::min<int64_t>(rows, 4 * std::max(sms, 1));
  const int threads = static_cast<int>(std::clamp<int64_t>((d + 31) / 32 * 32, 32, 256));
  dispatch_floating(x.dtype(), "norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_t<T>;
    Tensor partial = per_dim ? Tensor::empty({blocks, 2, d}, acc, x.device()) : Tensor();
    const size_t acc_bytes = 2 * static_cast<size_t>(d) * sizeof(A);
    // 48 KiB without an opt-in holds the static red[32] of the kernel as well as the dynamic part.
    const bool smem_acc = per_dim && acc_bytes + 32 * sizeof(A) <= 48 * 1024;
    dispatch_kind(kind, [&](auto k) {
      constexpr NormKind K = decltype(k)::value;
      norm_backward_kernel<K, T><<<static_cast<unsigned>(blocks), threads, smem_acc ? acc_bytes : 0, stream>>>(
          ptr_or_null<T>(d_y), ptr_or_null<T>(x), ptr_or_null<T>(weight), ptr_or_null<A>(mean), ptr_or_null<A>(rstd),
          mut_ptr<T>(g.d_x), mut_ptr<A>(partial), smem_acc, kind == NormKind::scale ? mut_ptr<A>(g.d_weight) : nullptr,
          rows, d, static_cast<A>(eps));
    });
    GAU_CUDA_CHECK_LAUNCH();
    if (!per_dim) return;
    param_reduce_kernel<T><<<blocks_for(2 * d), kThreads, 0, stream>>>(ptr_or_null<A>(partial), blocks, d,
                                                                       mut_ptr<T>(g.d_weight), mut_ptr<T>(g.d_bias));
    GAU_CUDA_CHECK_LAUNCH();
  });
  return g;
}

}  // namespace gau::ops::cuda
