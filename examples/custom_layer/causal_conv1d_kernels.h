#pragma once
// The raw kernels behind causal_conv1d (causal_conv1d.cpp checks the tensors and calls these).
// Every array is contiguous: x, y, dy, dx [b, n, c] and w, dw [k, c], channels innermost. Outputs
// are overwritten, not accumulated into.
//
//   forward          y[b,t,c]  = sum_{j < k, j <= t}     w[j,c] * x[b,t-j,c]
//   backward_input   dx[b,t,c] = sum_{j < k, t+j < n}    w[j,c] * dy[b,t+j,c]
//   backward_weight  dw[j,c]   = sum_{b, t >= j}         x[b,t-j,c] * dy[b,t,c]
//
// The CUDA launchers take plain pointers and a stream, so the .cu file needs nothing of gau's
// and compiles as C++17 with any CMake that knows CUDA.
#include <cstdint>

#ifdef GAU_CUSTOM_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace gau_custom::kernels {

struct ConvDims {
  int64_t b = 0, n = 0, c = 0, k = 0;
};

// CPU, for float and double.
template <typename T>
void forward_cpu(const T* x, const T* w, T* y, const ConvDims& d);
template <typename T>
void backward_input_cpu(const T* dy, const T* w, T* dx, const ConvDims& d);
template <typename T>
void backward_weight_cpu(const T* x, const T* dy, T* dw, const ConvDims& d);

#ifdef GAU_CUSTOM_WITH_CUDA
// CUDA, float: each queues its kernel on `stream` and returns the launch's error.
cudaError_t forward_cuda(const float* x, const float* w, float* y, const ConvDims& d, cudaStream_t stream);
cudaError_t backward_input_cuda(const float* dy, const float* w, float* dx, const ConvDims& d, cudaStream_t stream);
cudaError_t backward_weight_cuda(const float* x, const float* dy, float* dw, const ConvDims& d, cudaStream_t stream);
#endif

}  // namespace gau_custom::kernels
