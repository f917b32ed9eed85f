#include "core/cuda/cuda_check.h"

#include <cstring>
#include <string>

#include "core/error.h"

namespace gau::cuda::detail {

namespace {
std::string where(const char* stmt, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  int device = -1;
  // Best effort: the device query itself may fail once the context is broken.
  if (cudaGetDevice(&device) != cudaSuccess) {
    device = -1;
    cudaGetLastError();
  }
  return std::string(" in `") + stmt + "` at " + (base ? base + 1 : file) + ":" + std::to_string(line) +
         " (device cuda:" + std::to_string(device) + ")";
}
}  // namespace

void throw_cuda_error(cudaError_t err, const char* stmt, const char* file, int line) {
  // Clear the error if it is not sticky, so that the process can carry on after catching it.
  cudaGetLastError();
  std::string msg = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err) + where(stmt, file, line);
  if (err == cudaErrorMemoryAllocation) throw OutOfMemoryError("out of memory: CUDA error " + msg);
  throw Error("CUDA error " + msg);
}

void throw_cublas_error(cublasStatus_t status, const char* stmt, const char* file, int line) {
  std::string msg = std::string("cuBLAS error ") + cublasGetStatusName(status) + ": " + cublasGetStatusString(status) +
                    where(stmt, file, line);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) throw OutOfMemoryError("out of memory: " + msg);
  throw Error(msg);
}

}  // namespace gau::cuda::detail
