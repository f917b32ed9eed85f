// CUDA softmax family. Inputs are made contiguous and seen as [outer, D, inner] (D along `dim`).
// For the last dim (inner == 1): one warp per row up to D = 1024, one block per row beyond;
// otherwise one thread per (outer, inner) column.
#include <cmath>

#include "core/dispatch.h"
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/cuda/loops.cuh"
#include "core/ops/softmax_kernels.h"

namespace gau::ops::cuda {

namespace {

struct SoftmaxGeometry {
  int64_t outer, D, inner;
};

SoftmaxGeometry geometry(const Tensor& x, int64_t dim) {
  SoftmaxGeometry g{1, x.dim() == 0 ? 1 : x.shape()[dim], 1};
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim) g.outer *= x.shape()[d];
    if (d > dim) g.inner *= x.shape()[d];
  }
  return g;
}

// Reductions over a row group: a warp, or the whole block.
template <bool kBlock, typename A>
__device__ __forceinline__ A group_sum(A v, A* smem) {
  if constexpr (kBlock) return block_sum(v, smem);
  else return warp_sum(v);
}
template <bool kBlock, typename A>
__device__ __forceinline__ A group_max(A v, A* smem) {
  if constexpr (kBlock) return block_max(v, smem, -A(INFINITY));
  else return warp_max(v);
}

// Forward on rows: y = exp(x - m) / s, or (x - m) - log(s) for log_softmax: x - m is exact, as on the
// CPU, where x - (m + log s) would round at the size of m.
template <typename T, bool kBlock>
__global__ void softmax_rows_kernel(const T* x, T* y, int64_t rows, int64_t D, bool log_out) {
  using A = acc_t<T>;
  __shared__ A smem[32];
  const int lane = kBlock ? threadIdx.x : threadIdx.x % 32;
  const int group_size = kBlock ? blockDim.x : 32;
  const int64_t groups = kBlock ? 1 : blockDim.x / 32;
  const int64_t first = blockIdx.x * groups + (kBlock ? 0 : threadIdx.x / 32);
  for (int64_t row = first; row < rows; row += gridDim.x * groups) {
    const T* xr = x + row * D;
    T* yr = y + row * D;
    A m = -A(INFINITY);
    for (int64_t j = lane; j < D; j += group_size) m = ::fmax(m, to_acc(xr[j]));
    m = group_max<kBlock>(m, smem);
    if (m == -A(INFINITY)) m = 0;  // a row of -inf: avoid inf - inf
    A s = 0;
    for (int64_t j = lane; j < D; j += group_size) s += ::exp(to_acc(xr[j]) - m);
    s = group_sum<kBlock>(s, smem);
    if (log_out) {
      const A log_s = ::log(s);
      for (int64_t j = lane; j < D; j += group_size) yr[j] = T((to_acc(xr[j]) - m) - log_s);
    } else {
      const A inv = A(1) / s;
      for (int64_t j = lane; j < D; j += group_size) yr[j] = T(::exp(to_acc(xr[j]) - m) * inv);
    }
  }
}

// Backward on rows. softmax: d_x = y (d_y - sum(d_y y)); log_softmax: d_x = d_y - exp(y) sum(d_y).
template <typename T, bool kBlock>
__global__ void softmax_backward_rows_kernel(const T* y, const T* dy, T* dx, int64_t rows, int64_t D,
                                             bool log_in) {
  using A = acc_t<T>;
  __shared__ A smem[32];
  const int lane = kBlock ? threadIdx.x : threadIdx.x % 32;
  const int group_size = kBlock ? blockDim.x : 32;
  const int64_t groups = kBlock ? 1 : blockDim.x / 32;
  const int64_t first = blockIdx.x * groups + (kBlock ? 0 : threadIdx.x / 32);
  for (int64_t row = first; row < rows; row += gridDim.x * groups) {
    const T* yr = y + row * D;
    const T* gr = dy + row * D;
    T* dr = dx + row * D;
    A s = 0;
    for (int64_t j = lane; j < D; j += group_size) s += log_in ? to_acc(gr[j]) : to_acc(gr[j]) * to_acc(yr[j]);
    s = group_sum<kBlock>(s, smem);
    for (int64_t j = lane; j < D; j += group_size) {
      A yv = to_acc(yr[j]), g = to_acc(gr[j]);
      dr[j] = T(log_in ? g - ::exp(yv) * s : yv * (g - s));
    }
  }
}

// dim is not the last one: one thread per (outer, inner) column walks D with stride inner.
template <typename T>
__global__ void softmax_cols_kernel(const T* x, T* y, SoftmaxGeometry g, bool log_out) {
  using A = acc_t<T>;
  const int64_t n = g.outer * g.inner;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (t / g.inner) * g.D * g.inner + t % g.inner;
    A m = -A(INFINITY);
    for (int64_t j = 0; j < g.D; ++j) m = ::fmax(m, to_acc(x[base + j * g.inner]));
    if (m == -A(INFINITY)) m = 0;
    A s = 0;
    for (int64_t j = 0; j < g.D; ++j) s += ::exp(to_acc(x[base + j * g.inner]) - m);
    const A log_s = ::log(s), inv = A(1) / s;
    for (int64_t j = 0; j < g.D; ++j) {
      A v = to_acc(x[base + j * g.inner]);
      y[base + j * g.inner] = T(log_out ? (v - m) - log_s : ::exp(v - m) * inv);
    }
  }
}

template <typename T>
__global__ void softmax_backward_cols_kernel(const T* y, const T* dy, T* dx, SoftmaxGeometry g, bool log_in) {
  using A = acc_t<T>;
  const int64_t n = g.outer * g.inner;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (t / g.inner) * g.D * g.inner + t % g.inner;
    A s = 0;
    for (int64_t j = 0; j < g.D; ++j) {
      const int64_t k = base + j * g.inner;
      s += log_in ? to_acc(dy[k]) : to_acc(dy[k]) * to_acc(y[k]);
    }
    for (int64_t j = 0; j < g.D; ++j) {
      const int64_t k = base + j * g.inner;
      A yv = to_acc(y[k]), gv = to_acc(dy[k]);
      dx[k] = T(log_in ? gv - ::exp(yv) * s : yv * (gv - s));
    }
  }
}

// Launch shape for row kernels: warps per row when rows are short, blocks per row when long.
struct RowLaunch {
  bool block_per_row;
  unsigned blocks;
  int threads;
};
RowLaunch row_launch(int64_t rows, int64_t D) {
  if (D > 1024) return {true, static_cast<unsigned>(std::min<int64_t>(rows, 65535 * 16)), 256};
  const int64_t warps_per_block = 8;
  return {false, static_cast<unsigned>(std::min<int64_t>((rows + warps_per_block - 1) / warps_per_block, 65535 * 16)),
          static_cast<int>(32 * warps_per_block)};
}

Tensor forward(const Tensor& x_in, int64_t dim, bool log_out, const char* op) {
  DeviceGuard guard(x_in.device());
  Tensor x = contiguous_on_device(x_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  if (x.numel() == 0) return y;
  SoftmaxGeometry g = geometry(x, dim);
  cudaStream_t stream = current_cuda_stream(x.device());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = static_cast<const T*>(x.data_ptr());
    T* yp = static_cast<T*>(y.data_ptr());
    if (g.inner == 1) {
      RowLaunch l = row_launch(g.outer, g.D);
      if (l.block_per_row) softmax_rows_kernel<T, true><<<l.blocks, l.threads, 0, stream>>>(xp, yp, g.outer, g.D, log_out);
      else softmax_rows_kernel<T, false><<<l.blocks, l.threads, 0, stream>>>(xp, yp, g.outer, g.D, log_out);
    } else {
      softmax_cols_kernel<T><<<blocks_for(g.outer * g.inner), kThreads, 0, stream>>>(xp, yp, g, log_out);
    }
    GAU_CUDA_CHECK_LAUNCH();
  });
  return y;
}

Tensor backward(const Tensor& y_in, const Tensor& dy_in, int64_t dim, bool log_in, const char* op) {
  DeviceGuard guard(y_in.device());
  Tensor y = contiguous_on_device(y_in), dy = contiguous_on_device(dy_in);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());  // y's shape
  if (y.numel() == 0) return dx;
  SoftmaxGeometry g = geometry(y, dim);
  cudaStream_t stream = current_cuda_stream(y.device());
  dispatch_floating(y.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* yp = static_cast<const T*>(y.data_ptr());
    const T* gp = static_cast<const T*>(dy.data_ptr());
    T* dp = static_cast<T*>(dx.data_ptr());
    if (g.inner == 1) {
      RowLaunch l = row_launch(g.outer, g.D);
      if (l.block_per_row)
        softmax_backward_rows_kernel<T, true><<<l.blocks, l.threads, 0, stream>>>(yp, gp, dp, g.outer, g.D, log_in);
      else
        softmax_backward_rows_kernel<T, false><<<l.blocks, l.threads, 0, stream>>>(yp, gp, dp, g.outer, g.D, log_in);
    } else {
      softmax_backward_cols_kernel<T><<<blocks_for(g.outer * g.inner), kThreads, 0, stream>>>(yp, gp, dp, g, log_in);
    }
    GAU_CUDA_CHECK_LAUNCH();
  });
  return dx;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return forward(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return forward(x, dim, true, "log_softmax"); }
Tensor softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim) {
  return backward(y, d_y, dim, false, "softmax_backward");
}
Tensor log_softmax_backward(const Tensor& y, const Tensor& d_y, int64_t dim) {
  return backward(y, d_y, dim, true, "log_softmax_backward");
}

}  // namespace gau::ops::cuda
