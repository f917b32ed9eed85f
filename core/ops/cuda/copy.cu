#include "core/ops/copy_kernels.h"

#include "core/dispatch.h"
#include "core/ops/cuda/loops.cuh"
#include "core/rng.h"

namespace gau::ops::cuda {

namespace {

// dst = src converted to To (cast_value, as the CPU converts). The source dtype is read at run
// time, uniform across the launch: 7 kernels for the 42 conversions instead of 42.
template <typename To>
struct CastFn {
  To* dst;
  const void* src;
  DType from;
  __device__ void operator()(const int64_t (&off)[2]) const {
    const int64_t i = off[1];
    switch (from) {
      case DType::f32:
        dst[off[0]] = cast_value<To>(static_cast<const float*>(src)[i]);
        return;
      case DType::f64:
        dst[off[0]] = cast_value<To>(static_cast<const double*>(src)[i]);
        return;
      case DType::bf16:
        dst[off[0]] = cast_value<To>(static_cast<const bfloat16*>(src)[i]);
        return;
      case DType::f16:
        dst[off[0]] = cast_value<To>(static_cast<const float16*>(src)[i]);
        return;
      case DType::i32:
        dst[off[0]] = cast_value<To>(static_cast<const int32_t*>(src)[i]);
        return;
      case DType::i64:
        dst[off[0]] = cast_value<To>(static_cast<const int64_t*>(src)[i]);
        return;
      case DType::b8:
        dst[off[0]] = cast_value<To>(static_cast<const bool*>(src)[i]);
        return;
    }
  }
};

// A copy without conversion moves bits (U has the dtype's size).
template <typename U>
struct CopyBitsFn {
  U* dst;
  const U* src;
  __device__ void operator()(const int64_t (&off)[2]) const { dst[off[0]] = src[off[1]]; }
};

template <typename U>
struct FillFn {
  U* dst;
  U value;
  __device__ void operator()(const int64_t (&off)[1]) const { dst[off[0]] = value; }
};

// Same-device copy with conversion and strides; dst and src have the same shape.
void copy_same_device(const Tensor& dst, const Tensor& src) {
  DeviceGuard guard(dst.device());
  cudaStream_t stream = current_cuda_stream(dst.device());
  if (dst.numel() == 0) return;
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    GAU_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), dst.nbytes(), cudaMemcpyDeviceToDevice, stream));
    return;
  }
  std::array<std::vector<int64_t>, 2> strides{dst.strides(), broadcast_strides(src, dst.shape())};
  if (dst.dtype() == src.dtype()) {
    dispatch_bits(dst.dtype(), [&](auto tag) {
      using U = typename decltype(tag)::type;
      launch_elementwise<2>(dst.shape(), strides, stream,
                            CopyBitsFn<U>{static_cast<U*>(dst.data_ptr()), static_cast<const U*>(src.data_ptr())});
    });
    return;
  }
  dispatch_all(dst.dtype(), "copy_", [&](auto to_tag) {
    using To = typename decltype(to_tag)::type;
    launch_elementwise<2>(dst.shape(), strides, stream,
                          CastFn<To>{static_cast<To*>(dst.data_ptr()), src.data_ptr(), src.dtype()});
  });
}

// src on the host (any layout) into dst on a GPU.
void copy_host_to_device(const Tensor& dst, const Tensor& src) {
  Tensor host = src;
  if (!src.is_contiguous()) {
    host = Tensor::empty(src.shape(), src.dtype(), Device::cpu());
    cpu::copy_(host, src);
  }
  DeviceGuard guard(dst.device());
  cudaStream_t stream = current_cuda_stream(dst.device());
  // From pageable memory the call returns once `host` has been staged, so it may be freed after.
  if (dst.is_contiguous() && dst.dtype() == src.dtype()) {
    GAU_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), host.data_ptr(), dst.nbytes(), cudaMemcpyHostToDevice, stream));
    return;
  }
  Tensor staged = Tensor::empty(src.shape(), src.dtype(), dst.device());
  GAU_CUDA_CHECK(cudaMemcpyAsync(staged.data_ptr(), host.data_ptr(), staged.nbytes(), cudaMemcpyHostToDevice, stream));
  copy_same_device(dst, staged);
}

// src on a GPU into dst on the host; returns when the data has arrived.
void copy_device_to_host(const Tensor& dst, const Tensor& src) {
  DeviceGuard guard(src.device());
  cudaStream_t stream = current_cuda_stream(src.device());
  Tensor dev = src;
  if (!src.is_contiguous() || src.dtype() != dst.dtype()) {
    dev = Tensor::empty(dst.shape(), dst.dtype(), src.device());
    copy_same_device(dev, src);
  }
  Tensor host = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), Device::cpu());
  GAU_CUDA_CHECK(cudaMemcpyAsync(host.data_ptr(), dev.data_ptr(), dev.nbytes(), cudaMemcpyDeviceToHost, stream));
  GAU_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (!host.same(dst)) cpu::copy_(dst, host);
}

// Between two GPUs: a contiguous copy in dst's dtype on src's device, a peer copy, then a
// strided copy on dst's device if dst is not contiguous.
void copy_across_devices(const Tensor& dst, const Tensor& src) {
  Tensor packed = src;
  if (!src.is_contiguous() || src.dtype() != dst.dtype()) {
    packed = Tensor::empty(dst.shape(), dst.dtype(), src.device());
    copy_same_device(packed, src);
  }
  {
    // The peer copy runs on dst's stream: src's stream must have produced `packed` first.
    DeviceGuard guard(src.device());
    GAU_CUDA_CHECK(cudaStreamSynchronize(current_cuda_stream(src.device())));
  }
  DeviceGuard guard(dst.device());
  cudaStream_t stream = current_cuda_stream(dst.device());
  Tensor landing = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), dst.device());
  GAU_CUDA_CHECK(cudaMemcpyPeerAsync(landing.data_ptr(), dst.device().index, packed.data_ptr(), src.device().index,
                                     packed.nbytes(), stream));
  // `packed` may be freed (and reused on src's stream) before the peer copy ran: wait for it.
  GAU_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (!landing.same(dst)) copy_same_device(dst, landing);
}

template <typename T>
struct UniformFn {
  T* dst;
  OffsetCalc<1> calc;
  double low, span;
  uint64_t seed, offset;
  __device__ void operator()(int64_t i) const {
    int64_t off[1];
    calc.get(i, off);
    // CPU: low + (high - low) * u in double (contracted to one fma by the host compiler).
    double v = fma(span, static_cast<double>(philox_uniform(seed, offset, static_cast<uint64_t>(i))), low);
    dst[off[0]] = T(static_cast<acc_t<T>>(v));
  }
};

template <typename T>
struct NormalFn {
  T* dst;
  OffsetCalc<1> calc;
  double mean, std;
  uint64_t seed, offset;
  __device__ void operator()(int64_t i) const {
    int64_t off[1];
    calc.get(i, off);
    double v = fma(std, philox_normal(seed, offset, static_cast<uint64_t>(i)), mean);
    dst[off[0]] = T(static_cast<acc_t<T>>(v));
  }
};

template <typename F>
__global__ void index_kernel(int64_t n, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) f(i);
}

// Runs functor Fn<T>{ptr, calc, a, b, seed, offset} over every element of dst in row-major order.
template <template <typename> class Fn>
void random_fill(const Tensor& dst, double a, double b, uint64_t seed, uint64_t offset, const char* op) {
  if (dst.numel() == 0) return;
  DeviceGuard guard(dst.device());
  cudaStream_t stream = current_cuda_stream(dst.device());
  // No merging of dims here would change the meaning of i, so keep the full shape.
  OffsetCalc<1> calc;
  GAU_CHECK(dst.dim() <= kMaxDims, op, ": at most ", kMaxDims, " dims on CUDA, got ", describe(dst));
  calc.ndim = static_cast<int>(dst.dim());
  for (int d = 0; d < kMaxDims; ++d) {
    calc.sizes[d] = d < calc.ndim ? dst.shape()[d] : 1;
    calc.strides[0][d] = d < calc.ndim ? dst.strides()[d] : 0;
  }
  dispatch_floating(dst.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Fn<T> f{static_cast<T*>(dst.data_ptr()), calc, a, b, seed, offset};
    index_kernel<<<blocks_for(dst.numel()), kThreads, 0, stream>>>(dst.numel(), f);
    GAU_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

void copy_(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  if (dst.is_cuda() && src.is_cuda()) {
    if (dst.device() == src.device()) {
      copy_same_device(dst, src);
    } else {
      copy_across_devices(dst, src);
    }
  } else if (dst.is_cuda()) {
    copy_host_to_device(dst, src);
  } else {
    copy_device_to_host(dst, src);
  }
}

void fill_(const Tensor& dst, double value) {
  if (dst.numel() == 0) return;
  DeviceGuard guard(dst.device());
  cudaStream_t stream = current_cuda_stream(dst.device());
  std::array<std::vector<int64_t>, 1> strides{dst.strides()};
  dispatch_bits(dst.dtype(), [&](auto tag) {
    using U = typename decltype(tag)::type;
    launch_elementwise<1>(dst.shape(), strides, stream,
                          FillFn<U>{static_cast<U*>(dst.data_ptr()), value_bits<U>(dst.dtype(), value)});
  });
}

void fill_uniform_(const Tensor& dst, double low, double high, uint64_t seed, uint64_t offset) {
  random_fill<UniformFn>(dst, low, high - low, seed, offset, "rand");
}

void fill_normal_(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset) {
  random_fill<NormalFn>(dst, mean, std, seed, offset, "randn");
}

}  // namespace gau::ops::cuda
