// CUDA cross-entropy: one block per row for the forward (max, sum exp, sum x), then one block
// sums the per-row losses in a fixed order, so the loss does not depend on scheduling.
#include <cmath>

#include "core/dispatch.h"
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/cuda/index_check.h"
#include "core/ops/cuda/loops.cuh"
#include "core/ops/loss_kernels.h"

namespace gau::ops::cuda {

namespace {

constexpr int kRowThreads = 256;

// Per row i with target t (PyTorch: F.cross_entropy(x, t, ignore_index, label_smoothing=eps)):
//   lse_i  = log sum_c exp(x_ic)
//   loss_i = (1 - eps) (lse_i - x_it) + eps (lse_i - mean_c x_ic);  0 for ignored rows
template <typename T, typename I>
__global__ void cross_entropy_rows_kernel(const T* x, int64_t ld, const I* targets, int64_t N, int64_t C,
                                          int64_t ignore, double eps, acc_t<T>* lse, double* row_loss) {
  using A = acc_t<T>;
  __shared__ A smem[32];
  for (int64_t i = blockIdx.x; i < N; i += gridDim.x) {
    const T* row = x + i * ld;
    A m = -A(INFINITY);
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) m = ::fmax(m, to_acc(row[c]));
    m = block_max(m, smem, -A(INFINITY));
    if (m == -A(INFINITY)) m = 0;
    A s = 0, sx = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      const A v = to_acc(row[c]);
      s += ::exp(v - m);
      sx += v;
    }
    s = block_sum(s, smem);
    sx = block_sum(sx, smem);
    if (threadIdx.x == 0) {
      const A l = m + ::log(s);
      lse[i] = l;
      const int64_t t = static_cast<int64_t>(targets[i]);
      if (t == ignore) {
        row_loss[i] = 0;
      } else {
        // (m - x) + log(s) rather than lse - x, as on the CPU: m - x is exact, lse rounds at |m|.
        const double ls = static_cast<double>(::log(s));
        const double nll = (static_cast<double>(m) - static_cast<double>(to_acc(row[t]))) + ls;
        const double smooth = (static_cast<double>(m) - static_cast<double>(sx) / static_cast<double>(C)) + ls;
        row_loss[i] = (1.0 - eps) * nll + (eps != 0.0 ? eps * smooth : 0.0);
      }
    }
  }
}

// One block: loss = sum(row_loss) / count (0 when count is 0); count written for the host.
template <typename O, typename I>
__global__ void cross_entropy_total_kernel(const double* row_loss, const I* targets, int64_t N, int64_t ignore,
                                           O* loss, int64_t* count_out) {
  __shared__ double smem[32];
  double total = 0, count = 0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
    total += row_loss[i];
    count += static_cast<int64_t>(targets[i]) != ignore ? 1.0 : 0.0;
  }
  total = block_sum(total, smem);
  count = block_sum(count, smem);
  if (threadIdx.x == 0) {
    *loss = static_cast<O>(count > 0 ? total / count : 0.0);
    *count_out = static_cast<int64_t>(count);
  }
}

// d_x_ic = (exp(x_ic - lse_i) - q_ic) * scale, q = (1 - eps) onehot(t_i) + eps / C; ignored rows 0.
template <typename T, typename I>
__global__ void cross_entropy_backward_kernel(const T* x, int64_t ld, const I* targets, const acc_t<T>* lse,
                                              T* dx, int64_t N, int64_t C, int64_t ignore, acc_t<T> scale,
                                              acc_t<T> off, acc_t<T> on, bool any) {
  using A = acc_t<T>;
  const int64_t total = N * C;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < total; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = k / C, c = k % C;
    const int64_t t = static_cast<int64_t>(targets[i]);
    if (t == ignore || !any) {
      dx[k] = T(A(0));
      continue;
    }
    A g = ::exp(to_acc(x[i * ld + c]) - lse[i]) - off;
    if (c == t) g -= on;
    dx[k] = T(g * scale);
  }
}

// Rows must be unit-stride; rows may be spaced by any stride, so only other layouts are copied.
Tensor row_major(const Tensor& x) { return x.stride(1) == 1 || x.size(1) <= 1 ? x : contiguous_on_device(x); }

}  // namespace

CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt) {
  DeviceGuard guard(logits.device());
  Tensor x = row_major(logits), tc = contiguous_on_device(targets);
  const int64_t N = x.size(0), C = x.size(1), ld = x.stride(0);
  check_index_range(tc, C, true, opt.ignore_index, "cross_entropy", "target",
                    "logits " + describe(logits) + ", targets " + describe(targets));
  const DType out_dtype = logits.dtype() == DType::f64 ? DType::f64 : DType::f32;
  CrossEntropyResult res;
  res.lse = Tensor::empty({N}, out_dtype, logits.device());   // [N]
  res.loss = Tensor::empty({}, out_dtype, logits.device());   // []
  Tensor row_loss = Tensor::empty({std::max<int64_t>(N, 1)}, DType::f64, logits.device());  // [N]
  Tensor count = Tensor::empty({1}, DType::i64, logits.device());
  cudaStream_t stream = current_cuda_stream(logits.device());
  dispatch_index(tc.dtype(), "cross_entropy", [&](auto itag) {
    using I = typename decltype(itag)::type;
    dispatch_floating(x.dtype(), "cross_entropy", [&](auto tag) {
      using T = typename decltype(tag)::type;
      using A = acc_t<T>;
      if (N > 0) {
        const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(N, 65535 * 16));
        cross_entropy_rows_kernel<T, I><<<blocks, kRowThreads, 0, stream>>>(
            static_cast<const T*>(x.data_ptr()), ld, static_cast<const I*>(tc.data_ptr()), N, C, opt.ignore_index,
            opt.label_smoothing, static_cast<A*>(res.lse.data_ptr()), static_cast<double*>(row_loss.data_ptr()));
        GAU_CUDA_CHECK_LAUNCH();
      }
      cross_entropy_total_kernel<A, I><<<1, 1024, 0, stream>>>(
          static_cast<const double*>(row_loss.data_ptr()), static_cast<const I*>(tc.data_ptr()), N, opt.ignore_index,
          static_cast<A*>(res.loss.data_ptr()), static_cast<int64_t*>(count.data_ptr()));
      GAU_CUDA_CHECK_LAUNCH();
    });
  });
  int64_t host_count = 0;
  GAU_CUDA_CHECK(cudaMemcpyAsync(&host_count, count.data_ptr(), sizeof(host_count), cudaMemcpyDeviceToHost, stream));
  GAU_CUDA_CHECK(cudaStreamSynchronize(stream));
  res.count = host_count;
  return res;
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                              double d_loss, const CrossEntropyOptions& opt) {
  DeviceGuard guard(logits.device());
  Tensor x = row_major(logits), tc = contiguous_on_device(targets), lc = contiguous_on_device(lse);
  const int64_t N = x.size(0), C = x.size(1), ld = x.stride(0);
  check_index_range(tc, C, true, opt.ignore_index, "cross_entropy_backward", "target",
                    "logits " + describe(logits) + ", targets " + describe(targets));
  Tensor dx = Tensor::empty({N, C}, logits.dtype(), logits.device());  // [N, C]
  if (dx.numel() == 0) return dx;
  const double eps = opt.label_smoothing;
  const double scale = count > 0 ? d_loss / static_cast<double>(count) : 0.0;
  cudaStream_t stream = current_cuda_stream(logits.device());
  dispatch_index(tc.dtype(), "cross_entropy_backward", [&](auto itag) {
    using I = typename decltype(itag)::type;
    dispatch_floating(x.dtype(), "cross_entropy_backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      using A = acc_t<T>;
      GAU_CHECK(lc.dtype() == dtype_of<A>::value, "cross_entropy_backward: lse must be ", dtype_name(dtype_of<A>::value),
                " for ", describe(logits), ", got ", describe(lse));
      cross_entropy_backward_kernel<T, I><<<blocks_for(N * C), kThreads, 0, stream>>>(
          static_cast<const T*>(x.data_ptr()), ld, static_cast<const I*>(tc.data_ptr()),
          static_cast<const A*>(lc.data_ptr()), static_cast<T*>(dx.data_ptr()), N, C, opt.ignore_index,
          static_cast<A>(scale), static_cast<A>(eps / static_cast<double>(C)), static_cast<A>(1.0 - eps), count > 0);
      GAU_CUDA_CHECK_LAUNCH();
    });
  });
  return dx;
}

}  // namespace gau::ops::cuda
