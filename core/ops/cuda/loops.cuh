#pragma once
// Shared kernel machinery for the CUDA ops: value casts that match the CPU bit for bit, a strided
// index calculator with broadcasting (up to 8 dims after merging), and a grid-stride launcher
// with a contiguous fast path.
#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/cuda/context.h"
#include "core/cuda/cuda_check.h"
#include "core/dispatch.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"

namespace gau::ops::cuda {

using gau::cuda::blocks_for;
using gau::cuda::current_cuda_stream;
using gau::cuda::DeviceGuard;
using gau::cuda::kThreads;

template <typename T>
inline constexpr bool is_half_v = std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>;

// Value conversion between element types. bf16/f16 go through float with round-to-nearest-even
// (the shared helpers of core/dtype.h), exactly as the CPU backend converts.
template <typename To, typename From>
GAU_HD To cast_value(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_half_v<From>) {
    return cast_value<To>(static_cast<float>(v));
  } else if constexpr (is_half_v<To>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else {
    return static_cast<To>(v);
  }
}

template <typename T>
GAU_HD acc_t<T> to_acc(T v) {
  return cast_value<acc_t<T>>(v);
}

constexpr int kMaxDims = 8;

// Offsets of N operands for a linear index into the (merged) iteration shape; operand 0 is the
// output. Strides are in elements; a broadcast dim has stride 0.
template <int N>
struct OffsetCalc {
  int ndim = 0;
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];

  __device__ __forceinline__ void get(int64_t linear, int64_t (&off)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d < ndim) {
        int64_t i = linear % sizes[d];
        linear /= sizes[d];
#pragma unroll
        for (int k = 0; k < N; ++k) off[k] += i * strides[k][d];
      }
    }
  }
};

// Strides of `t` broadcast (numpy rules) to `shape`: 0 on broadcast and missing leading dims.
std::vector<int64_t> broadcast_strides(const Tensor& t, const Shape& shape);

// Builds the calculator for iterating `shape` over operands with the given (broadcast) strides,
// dropping size-1 dims and merging dims that are contiguous in every operand. Fails if more
// than kMaxDims dims remain.
template <int N>
OffsetCalc<N> make_offset_calc(const Shape& shape, const std::array<std::vector<int64_t>, N>& strides);

// True when the calculator describes a plain linear walk (ndim <= 1, unit strides everywhere).
template <int N>
bool is_linear(const OffsetCalc<N>& c) {
  if (c.ndim == 0) return true;
  if (c.ndim > 1) return false;
  for (int k = 0; k < N; ++k)
    if (c.strides[k][0] != 1) return false;
  return true;
}

template <int N, typename F>
__global__ void strided_kernel(int64_t n, OffsetCalc<N> calc, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[N];
    calc.get(i, off);
    f(off);
  }
}

// Contiguous fast path: every operand's offset is the linear index; 4 items per thread per step
// keep several independent loads in flight.
template <int N, typename F>
__global__ void linear_kernel(int64_t n, F f) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  for (; i + 3 * step < n; i += 4 * step) {
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      int64_t off[N];
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] = i + u * step;
      f(off);
    }
  }
  for (; i < n; i += step) {
    int64_t off[N];
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = i;
    f(off);
  }
}

// Runs f(offsets) for every element of `shape`; operand k has broadcast strides strides[k].
// f is a device functor: `__device__ void operator()(const int64_t (&off)[N]) const`.
template <int N, typename F>
void launch_elementwise(const Shape& shape, const std::array<std::vector<int64_t>, N>& strides, cudaStream_t stream,
                        F f) {
  int64_t n = shape_numel(shape);
  if (n == 0) return;
  OffsetCalc<N> calc = make_offset_calc<N>(shape, strides);
  if (is_linear(calc)) {
    linear_kernel<N, F><<<blocks_for((n + 3) / 4), kThreads, 0, stream>>>(n, f);
  } else {
    strided_kernel<N, F><<<blocks_for(n), kThreads, 0, stream>>>(n, calc, f);
  }
  GAU_CUDA_CHECK_LAUNCH();
}

// ---- host-side helpers shared by the ops ----

// The bits of `value` stored as dtype t (cast_value, which rounds as the CPU does), for a kernel
// dispatched by dispatch_bits; U has t's size.
template <typename U>
U value_bits(DType t, double value) {
  U bits{};
  dispatch_all(t, "value_bits", [&](auto tag) {
    using T = typename decltype(tag)::type;
    static_assert(sizeof(T) <= sizeof(uint64_t));
    const T v = cast_value<T>(value);
    if constexpr (sizeof(T) == sizeof(U)) std::memcpy(&bits, &v, sizeof(U));
  });
  return bits;
}

// A view of `t` broadcast to `shape` (stride 0 on broadcast dims), sharing storage.
Tensor expand_view(const Tensor& t, const Shape& shape);
// A contiguous copy of `t` on its device (t itself if already contiguous).
Tensor contiguous_on_device(const Tensor& t);

}  // namespace gau::ops::cuda
