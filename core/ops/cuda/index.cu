// CUDA gather/scatter by integer indices. Accumulation uses atomicAdd in f32 (f64 for f64), so
// the order of duplicate-index additions, and thus the last bits, may vary between runs.
#include <type_traits>

#include "core/dispatch.h"
#include "core/ops/copy_kernels.h"
#include "core/ops/index_kernels.h"
#include "core/ops/cuda/index_check.h"
#include "core/ops/cuda/loops.cuh"

namespace gau::ops::cuda {

namespace {

// out [n, d] contiguous; weight rows at ids, with weight strides (ws0, ws1).
template <typename T, typename I>
__global__ void embedding_kernel(const T* weight, int64_t ws0, int64_t ws1, const I* ids, T* out, int64_t n,
                                 int64_t d) {
  const int64_t total = n * d;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = t / d, j = t % d;
    out[t] = weight[static_cast<int64_t>(ids[i]) * ws0 + j * ws1];
  }
}

// acc [V, inner] (contiguous, f32 or f64) += src [n, inner] (contiguous) at rows index [n].
template <typename A, typename T, typename I>
__global__ void index_add_kernel(A* acc, const I* index, const T* src, int64_t n, int64_t inner) {
  const int64_t total = n * inner;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = t / inner, j = t % inner;
    atomicAdd(acc + static_cast<int64_t>(index[i]) * inner + j, cast_value<A>(src[t]));
  }
}

template <typename T, typename I>
__global__ void gather_rows_kernel(const T* x, int64_t xs0, int64_t xs1, const I* index, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = x[i * xs0 + static_cast<int64_t>(index[i]) * xs1];
}

// The accumulate step of index_add_, with every range already checked.
void index_add_checked(const Tensor& out, const Tensor& index, const Tensor& src_in) {
  const int64_t n = index.numel();
  const int64_t inner = n == 0 ? 0 : src_in.numel() / n;
  if (n == 0 || inner == 0) return;
  DeviceGuard guard(out.device());
  cudaStream_t stream = current_cuda_stream(out.device());
  Tensor src = contiguous_on_device(src_in), idx = contiguous_on_device(index);
  // f32/f64 contiguous outputs take the atomics directly; others go through an f32 copy.
  const bool direct = out.is_contiguous() && (out.dtype() == DType::f32 || out.dtype() == DType::f64);
  Tensor acc = out;
  if (!direct) {
    acc = Tensor::empty(out.shape(), out.dtype() == DType::f64 ? DType::f64 : DType::f32, out.device());
    copy_(acc, out);
  }
  dispatch_floating(src.dtype(), "index_add_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(idx.dtype(), "index_add_", [&](auto itag) {
      using I = typename decltype(itag)::type;
      auto launch = [&](auto* acc_ptr) {
        using A = std::remove_pointer_t<decltype(acc_ptr)>;
        index_add_kernel<A, T, I><<<blocks_for(n * inner), kThreads, 0, stream>>>(
            acc_ptr, static_cast<const I*>(idx.data_ptr()), static_cast<const T*>(src.data_ptr()), n, inner);
      };
      if (acc.dtype() == DType::f64) launch(static_cast<double*>(acc.data_ptr()));
      else launch(static_cast<float*>(acc.data_ptr()));
      GAU_CUDA_CHECK_LAUNCH();
    });
  });
  if (!direct) copy_(out, acc);
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  const int64_t V = weight.size(0), d = weight.size(1), n = ids.numel();
  check_index_range(ids, V, false, 0, "embedding", "id", describe(weight) + ", ids " + describe(ids));
  DeviceGuard guard(weight.device());
  Shape shape = ids.shape();
  shape.push_back(d);
  Tensor out = Tensor::empty(shape, weight.dtype(), weight.device());  // [..., d]
  if (out.numel() == 0) return out;
  Tensor idx = contiguous_on_device(ids);
  cudaStream_t stream = current_cuda_stream(weight.device());
  dispatch_floating(weight.dtype(), "embedding", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(idx.dtype(), "embedding", [&](auto itag) {
      using I = typename decltype(itag)::type;
      embedding_kernel<T, I><<<blocks_for(n * d), kThreads, 0, stream>>>(
          static_cast<const T*>(weight.data_ptr()), weight.stride(0), weight.stride(1),
          static_cast<const I*>(idx.data_ptr()), static_cast<T*>(out.data_ptr()), n, d);
      GAU_CUDA_CHECK_LAUNCH();
    });
  });
  return out;
}

Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings) {
  check_index_range(ids, num_embeddings, false, 0, "embedding_backward", "id",
                    "d_y " + describe(d_y) + ", ids " + describe(ids));
  DeviceGuard guard(d_y.device());
  const int64_t d = d_y.size(-1), n = ids.numel();
  Tensor out = Tensor::empty({num_embeddings, d}, d_y.dtype(), d_y.device());  // [V, d]
  fill_(out, 0.0);
  Tensor ids_c = contiguous_on_device(ids);
  Tensor flat_ids = Tensor::make_view(ids_c.storage(), ids_c.offset(), {n}, {1}, ids.dtype());
  Tensor dy = contiguous_on_device(d_y);
  Tensor rows = Tensor::make_view(dy.storage(), dy.offset(), {n, d}, {d, 1}, dy.dtype());
  index_add_checked(out, flat_ids, rows);
  return out;
}

void index_add_(const Tensor& out, const Tensor& index, const Tensor& src) {
  check_index_range(index, out.size(0), false, 0, "index_add_", "index",
                    "out " + describe(out) + ", src " + describe(src));
  index_add_checked(out, index, src);
}

Tensor gather_rows(const Tensor& x, const Tensor& index) {
  const int64_t n = x.size(0), C = x.size(1);
  check_index_range(index, C, false, 0, "gather_rows", "index", describe(x) + ", index " + describe(index));
  DeviceGuard guard(x.device());
  Tensor out = Tensor::empty({n}, x.dtype(), x.device());  // [N]
  if (n == 0) return out;
  Tensor idx = contiguous_on_device(index);
  cudaStream_t stream = current_cuda_stream(x.device());
  dispatch_floating(x.dtype(), "gather_rows", [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(idx.dtype(), "gather_rows", [&](auto itag) {
      using I = typename decltype(itag)::type;
      gather_rows_kernel<T, I><<<blocks_for(n), kThreads, 0, stream>>>(
          static_cast<const T*>(x.data_ptr()), x.stride(0), x.stride(1), static_cast<const I*>(idx.data_ptr()),
          static_cast<T*>(out.data_ptr()), n);
      GAU_CUDA_CHECK_LAUNCH();
    });
  });
  return out;
}

}  // namespace gau::ops::cuda
