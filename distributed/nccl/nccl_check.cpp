#include "distributed/nccl/nccl_check.h"

#include <cuda_runtime.h>

#include <cstring>
#include <string>

#include "core/error.h"

namespace gau::distributed::nccl::detail {

void throw_nccl_error(ncclResult_t result, const char* stmt, const char* file, int line) {
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) cudaGetLastError();
  const char* base = std::strrchr(file, '/');
  const char* last = ncclGetLastError(nullptr);
  throw Error(std::string("NCCL error: ") + ncclGetErrorString(result) +
              (last && *last ? std::string(" (") + last + ")" : "") + " in `" + stmt + "` at " +
              (base ? base + 1 : file) + ":" + std::to_string(line) + " (device cuda:" + std::to_string(device) + ")");
}

}  // namespace gau::distributed::nccl::detail
