#pragma once
// Checks for CUDA runtime and cuBLAS calls. A failure throws gau::Error (OutOfMemoryError for an
// allocation failure) naming the statement, file:line, the library's error name and string, and
// the current device:
//   GAU_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, stream));
//   GAU_CUDA_CHECK_LAUNCH();  // after a <<<...>>> launch
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace gau::cuda::detail {
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* stmt, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* stmt, const char* file, int line);
}  // namespace gau::cuda::detail

#define GAU_CUDA_CHECK(stmt)                                                          \
  do {                                                                                \
    cudaError_t gau_cuda_err_ = (stmt);                                               \
    if (gau_cuda_err_ != cudaSuccess)                                                 \
      ::gau::cuda::detail::throw_cuda_error(gau_cuda_err_, #stmt, __FILE__, __LINE__); \
  } while (0)

#define GAU_CUBLAS_CHECK(stmt)                                                             \
  do {                                                                                     \
    cublasStatus_t gau_cublas_status_ = (stmt);                                            \
    if (gau_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                       \
      ::gau::cuda::detail::throw_cublas_error(gau_cublas_status_, #stmt, __FILE__, __LINE__); \
  } while (0)

// Kernel launches report configuration errors through cudaGetLastError.
#define GAU_CUDA_CHECK_LAUNCH() GAU_CUDA_CHECK(cudaGetLastError())
