// CUDA reductions: the input is seen as [outer, R, inner] (R the reduced extent). inner == 1 runs
// one block per row; inner > 1 runs 32 columns per block with 8 rows of threads splitting R.
// Non-adjacent reduced dims are first permuted to the end and made contiguous.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/dispatch.h"
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/copy_kernels.h"
#include "core/ops/cuda/loops.cuh"
#include "core/ops/reduce_kernels.h"

namespace gau::ops::cuda {

namespace {

enum class Mode { sum, mean, var, max, argmax, lse };

// A running value and the index it came from (the index is used by max/argmax only).
template <typename A>
struct Best {
  A v;
  int64_t i;
};

// Larger value wins; on a tie the lower index, so argmax gives the first index of the max.
// NaN beats every number (the first NaN wins), as on the CPU (core/ops/cpu/reduce.cpp).
template <typename A>
__device__ __forceinline__ Best<A> better(Best<A> a, Best<A> b) {
  const bool a_nan = a.v != a.v, b_nan = b.v != b.v;
  if (a_nan || b_nan) return b_nan && (!a_nan || b.i < a.i) ? b : a;
  if (b.v > a.v || (b.v == a.v && b.i < a.i)) return b;
  return a;
}

template <typename A>
__device__ __forceinline__ A lowest() {
  return -A(INFINITY);
}

template <typename A>
__device__ __forceinline__ Best<A> shfl_best(Best<A> b, int o) {
  return {__shfl_xor_sync(0xffffffffu, b.v, o), __shfl_xor_sync(0xffffffffu, b.i, o)};
}

// Shape of the work: x_at(o, r, c) = x[o * R * inner + r * inner + c].
struct Geometry {
  int64_t outer, R, inner;
};

template <typename T>
struct RowArgs {
  const T* x;
  T* out;
  int64_t* out_index;
  Geometry g;
  Mode mode;
  double var_div;  // R - correction
};

// One block per row (inner == 1).
template <typename T>
__global__ void reduce_rows_kernel(RowArgs<T> args) {
  using A = acc_t<T>;
  __shared__ A smem[32];
  __shared__ A smem_v[32];
  __shared__ int64_t smem_i[32];
  const int64_t R = args.g.R;
  const Mode mode = args.mode;
  const bool is_max = mode == Mode::max || mode == Mode::argmax || mode == Mode::lse;
  for (int64_t row = blockIdx.x; row < args.g.outer; row += gridDim.x) {
    const T* p = args.x + row * R;
    A result;
    int64_t result_index = 0;
    if (is_max) {
      Best<A> best{lowest<A>(), INT64_MAX};
      for (int64_t j = threadIdx.x; j < R; j += blockDim.x) best = better(best, Best<A>{to_acc(p[j]), j});
      for (int o = 16; o > 0; o >>= 1) best = better(best, shfl_best(best, o));
      const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
      __syncthreads();
      if (lane == 0) smem_v[warp] = best.v, smem_i[warp] = best.i;
      __syncthreads();
      best = lane < warps ? Best<A>{smem_v[lane], smem_i[lane]} : Best<A>{lowest<A>(), INT64_MAX};
      for (int o = 16; o > 0; o >>= 1) best = better(best, shfl_best(best, o));
      result = best.v;
      result_index = best.i;
      if (mode == Mode::lse) {
        const A m = best.v;
        if (::isinf(m)) {
          result = m;  // -inf: every element is -inf; +inf stays +inf (not NaN from inf - inf), as on the CPU
        } else {
          A s = 0;
          for (int64_t j = threadIdx.x; j < R; j += blockDim.x) s += ::exp(to_acc(p[j]) - m);
          result = m + ::log(block_sum(s, smem));
        }
      }
    } else {
      A s = 0;
      for (int64_t j = threadIdx.x; j < R; j += blockDim.x) s += to_acc(p[j]);
      s = block_sum(s, smem);
      result = s;
      if (mode == Mode::mean) result = s / A(R);
      if (mode == Mode::var) {
        const A mu = s / A(R);
        A q = 0;
        for (int64_t j = threadIdx.x; j < R; j += blockDim.x) {
          A d = to_acc(p[j]) - mu;
          q += d * d;
        }
        result = block_sum(q, smem) / A(args.var_div);
      }
    }
    if (threadIdx.x == 0) {
      if (mode == Mode::argmax) args.out_index[row] = result_index;
      else args.out[row] = T(result);
    }
  }
}

constexpr int kColX = 32, kColY = 8;

// 32 adjacent columns per block (coalesced), 8 threads along R each (inner > 1).
template <typename T>
__global__ void reduce_cols_kernel(RowArgs<T> args) {
  using A = acc_t<T>;
  __shared__ A sv[kColY][kColX];
  __shared__ int64_t si[kColY][kColX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t R = args.g.R, inner = args.g.inner;
  const int64_t c = blockIdx.x * int64_t(kColX) + tx;
  const bool valid = c < inner;
  const Mode mode = args.mode;
  const bool is_max = mode == Mode::max || mode == Mode::argmax || mode == Mode::lse;
  for (int64_t o = blockIdx.y; o < args.g.outer; o += gridDim.y) {
    const T* p = args.x + o * R * inner + c;
    // Pass 1: sum, or max with its index.
    Best<A> b{is_max ? lowest<A>() : A(0), INT64_MAX};
    if (valid) {
      for (int64_t j = ty; j < R; j += kColY) {
        A v = to_acc(p[j * inner]);
        if (is_max) b = better(b, Best<A>{v, j});
        else b.v += v;
      }
    }
    __syncthreads();
    sv[ty][tx] = b.v;
    si[ty][tx] = b.i;
    __syncthreads();
    for (int s = kColY / 2; s > 0; s >>= 1) {
      if (ty < s) {
        if (is_max) {
          Best<A> r = better(Best<A>{sv[ty][tx], si[ty][tx]}, Best<A>{sv[ty + s][tx], si[ty + s][tx]});
          sv[ty][tx] = r.v, si[ty][tx] = r.i;
        } else {
          sv[ty][tx] += sv[ty + s][tx];
        }
      }
      __syncthreads();
    }
    A first = sv[0][tx];
    int64_t first_index = si[0][tx];
    A result = first;
    if (mode == Mode::mean) result = first / A(R);
    if (mode == Mode::var || mode == Mode::lse) {  // uniform across the block: it has barriers
      // Pass 2: squared deviations from the mean, or exp(x - max) (a column of -inf gives
      // center 0, sum 0 and so -inf).
      const A center = mode == Mode::var ? first / A(R) : (first == lowest<A>() ? A(0) : first);
      A q = 0;
      if (valid) {
        for (int64_t j = ty; j < R; j += kColY) {
          A d = to_acc(p[j * inner]) - center;
          q += mode == Mode::var ? d * d : ::exp(d);
        }
      }
      __syncthreads();
      sv[ty][tx] = q;
      __syncthreads();
      for (int s = kColY / 2; s > 0; s >>= 1) {
        if (ty < s) sv[ty][tx] += sv[ty + s][tx];
        __syncthreads();
      }
      // An infinite max is the lse itself (+inf - +inf would give NaN), as on the CPU.
      result = mode == Mode::var ? sv[0][tx] / A(args.var_div) : (::isinf(first) ? first : center + ::log(sv[0][tx]));
    }
    if (ty == 0 && valid) {
      if (mode == Mode::argmax) args.out_index[o * inner + c] = first_index;
      else args.out[o * inner + c] = T(result);
    }
  }
}

Shape reduced_shape(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < x.dim(); ++d) {
    bool reduced = false;
    for (int64_t r : dims) reduced |= r == d;
    if (!reduced) out.push_back(x.shape()[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// Runs `mode` over `dims` of x into out (out_index for argmax).
void reduce(const Tensor& x, const std::vector<int64_t>& dims, Mode mode, double var_div, const Tensor& out,
            const char* op) {
  if (out.numel() == 0) return;
  DeviceGuard guard(x.device());
  bool adjacent = true;
  for (size_t i = 1; i < dims.size(); ++i) adjacent &= dims[i] == dims[i - 1] + 1;
  Tensor src = x;
  Geometry g{1, 1, 1};
  if (dims.empty()) {
    src = contiguous_on_device(x);
    g = {x.numel(), 1, 1};
  } else if (adjacent && x.is_contiguous()) {
    for (int64_t d = 0; d < x.dim(); ++d) {
      int64_t s = x.shape()[d];
      if (d < dims.front()) g.outer *= s;
      else if (d <= dims.back()) g.R *= s;
      else g.inner *= s;
    }
  } else {
    // Kept dims first, reduced dims last, then one contiguous copy: rows of length R.
    Shape shape, strides;
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t d = 0; d < x.dim(); ++d) {
        bool reduced = false;
        for (int64_t r : dims) reduced |= r == d;
        if (reduced == (pass == 1)) {
          shape.push_back(x.shape()[d]);
          strides.push_back(x.strides()[d]);
          (reduced ? g.R : g.outer) *= x.shape()[d];
        }
      }
    }
    src = contiguous_on_device(Tensor::make_view(x.storage(), x.offset(), shape, strides, x.dtype()));
  }
  if (g.R == 0) {
    // As on the CPU: a sum over nothing is 0, its mean and variance 0/0, its log-sum-exp log 0.
    GAU_CHECK(mode != Mode::max && mode != Mode::argmax, op, ": cannot reduce over an empty dim of ", describe(x));
    fill_(out, mode == Mode::sum ? 0.0 : mode == Mode::lse ? -INFINITY : NAN);
    return;
  }
  cudaStream_t stream = current_cuda_stream(x.device());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    RowArgs<T> args{static_cast<const T*>(src.data_ptr()),
                    mode == Mode::argmax ? nullptr : static_cast<T*>(out.data_ptr()),
                    mode == Mode::argmax ? static_cast<int64_t*>(out.data_ptr()) : nullptr, g, mode, var_div};
    if (g.inner == 1) {
      int threads = g.R >= 256 ? 256 : (g.R > 64 ? 128 : 32);
      unsigned blocks = static_cast<unsigned>(std::min<int64_t>(g.outer, 65535 * 16));
      reduce_rows_kernel<T><<<blocks, threads, 0, stream>>>(args);
    } else {
      dim3 block(kColX, kColY);
      dim3 grid(static_cast<unsigned>((g.inner + kColX - 1) / kColX),
                static_cast<unsigned>(std::min<int64_t>(g.outer, 65535)));
      reduce_cols_kernel<T><<<grid, block, 0, stream>>>(args);
    }
    GAU_CUDA_CHECK_LAUNCH();
  });
}

// One thread per (outer, inner) column, walking its D elements in order.
template <typename T>
__global__ void cumsum_kernel(const T* x, T* y, Geometry g, bool exclusive) {
  const int64_t n = g.outer * g.inner;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = t / g.inner, c = t % g.inner;
    const int64_t base = o * g.R * g.inner + c;
    double run = 0;  // double for every dtype, as the CPU scan (core/ops/cpu/reduce.cpp) accumulates
    for (int64_t j = 0; j < g.R; ++j) {
      const double v = cast_value<double>(x[base + j * g.inner]);
      if (exclusive) {
        y[base + j * g.inner] = cast_value<T>(run);
        run += v;
      } else {
        run += v;
        y[base + j * g.inner] = cast_value<T>(run);
      }
    }
  }
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim, bool exclusive) {
  DeviceGuard guard(x.device());
  Tensor src = contiguous_on_device(x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());  // x's shape
  if (x.numel() == 0) return out;
  Geometry g{1, x.dim() == 0 ? 1 : x.shape()[dim], 1};
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim) g.outer *= x.shape()[d];
    if (d > dim) g.inner *= x.shape()[d];
  }
  dispatch_floating(x.dtype(), "cumsum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cumsum_kernel<T><<<blocks_for(g.outer * g.inner), kThreads, 0, current_cuda_stream(x.device())>>>(
        static_cast<const T*>(src.data_ptr()), static_cast<T*>(out.data_ptr()), g, exclusive);
    GAU_CUDA_CHECK_LAUNCH();
  });
  return out;
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x, dims, keepdim), x.dtype(), x.device());
  reduce(x, dims, Mode::sum, 0, out, "sum");
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x, dims, keepdim), x.dtype(), x.device());
  reduce(x, dims, Mode::mean, 0, out, "mean");
  return out;
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x, dims, keepdim), x.dtype(), x.device());
  int64_t r = 1;
  for (int64_t d : dims) r *= x.shape()[d];
  reduce(x, dims, Mode::var, static_cast<double>(std::max<int64_t>(r - correction, 0)), out, "var");
  return out;
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x, {dim}, keepdim), x.dtype(), x.device());
  reduce(x, {dim}, Mode::max, 0, out, "max");
  return out;
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x, {dim}, keepdim), DType::i64, x.device());
  reduce(x, {dim}, Mode::argmax, 0, out, "argmax");
  return out;
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x, {dim}, keepdim), x.dtype(), x.device());
  reduce(x, {dim}, Mode::lse, 0, out, "logsumexp");
  return out;
}

}  // namespace gau::ops::cuda
