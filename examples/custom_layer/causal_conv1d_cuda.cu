// CUDA kernels of causal_conv1d, f32 (causal_conv1d_kernels.h). Channels are innermost in
// memory, so consecutive threads take consecutive channels and every load is coalesced.
#include <algorithm>

#include "causal_conv1d_kernels.h"

namespace gau_custom::kernels {
namespace {

constexpr int kThreads = 256;

// Enough blocks of kThreads for one output each, capped; the kernels' grid-stride loops take the rest.
unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, 65536));
}

// One thread per output element y[b,t,c]: its k taps of the same channel.
__global__ void forward_kernel(const float* x, const float* w, float* y, ConvDims d) {
  const int64_t total = d.b * d.n * d.c;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ch = i % d.c, r = i / d.c, t = r % d.n;
    float acc = 0.f;
    for (int64_t j = 0; j < d.k && j <= t; ++j) acc += w[j * d.c + ch] * x[(r - j) * d.c + ch];
    y[i] = acc;
  }
}

// One thread per dx[b,t,c]: the outputs t + j < n that x[b,t,c] fed.
__global__ void backward_input_kernel(const float* dy, const float* w, float* dx, ConvDims d) {
  const int64_t total = d.b * d.n * d.c;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ch = i % d.c, r = i / d.c, t = r % d.n;
    float acc = 0.f;
    for (int64_t j = 0; j < d.k && t + j < d.n; ++j) acc += w[j * d.c + ch] * dy[(r + j) * d.c + ch];
    dx[i] = acc;
  }
}

// dw[j,c] reduces over all b·n rows. A block owns 32 channels of one tap j: its threads are
// kColumns (channels, threadIdx.x) by kRowGroups (threadIdx.y, each summing every kRowGroups-th
// row), and the row groups' partial sums meet in shared memory. No atomics: every dw element is
// written once, in a fixed order, so the result is the same on every run.
constexpr int kColumns = 32;
constexpr int kRowGroups = 16;

__global__ void backward_weight_kernel(const float* x, const float* dy, float* dw, ConvDims d) {
  __shared__ float partial[kRowGroups][kColumns + 1];  // + 1: no bank conflicts in the column sums
  const int64_t ch = blockIdx.x * int64_t(kColumns) + threadIdx.x;
  const int64_t rows = d.b * d.n;
  for (int64_t j = blockIdx.y; j < d.k; j += gridDim.y) {
    float acc = 0.f;
    if (ch < d.c)
      for (int64_t r = threadIdx.y; r < rows; r += kRowGroups)
        if (r % d.n >= j) acc += x[(r - j) * d.c + ch] * dy[r * d.c + ch];
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && ch < d.c) {
      float sum = 0.f;
      for (int g = 0; g < kRowGroups; ++g) sum += partial[g][threadIdx.x];
      dw[j * d.c + ch] = sum;
    }
    __syncthreads();  // before the next tap overwrites partial
  }
}

}  // namespace

cudaError_t forward_cuda(const float* x, const float* w, float* y, const ConvDims& d, cudaStream_t stream) {
  forward_kernel<<<blocks_for(d.b * d.n * d.c), kThreads, 0, stream>>>(x, w, y, d);
  return cudaGetLastError();
}

cudaError_t backward_input_cuda(const float* dy, const float* w, float* dx, const ConvDims& d, cudaStream_t stream) {
  backward_input_kernel<<<blocks_for(d.b * d.n * d.c), kThreads, 0, stream>>>(dy, w, dx, d);
  return cudaGetLastError();
}

cudaError_t backward_weight_cuda(const float* x, const float* dy, float* dw, const ConvDims& d, cudaStream_t stream) {
  const dim3 block(kColumns, kRowGroups);
  const dim3 grid(static_cast<unsigned>((d.c + kColumns - 1) / kColumns),
                  static_cast<unsigned>(std::min<int64_t>(d.k, 65535)));
  backward_weight_kernel<<<grid, block, 0, stream>>>(x, dy, dw, d);
  return cudaGetLastError();
}

}  // namespace gau_custom::kernels
