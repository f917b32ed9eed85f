#include "apps/system_info.h"

#include <cblas.h>

#include <cstdlib>
#include <ctime>
#include <thread>

#include "core/device.h"
#include "core/threads.h"
#include "core/version.h"

#if defined(GAU_WITH_CUDA)
#include <cuda_runtime.h>
#endif

namespace gau::apps {

namespace {

nlohmann::json gpus() {
  nlohmann::json list = nlohmann::json::array();
  int count = cuda_device_count();
#if defined(GAU_WITH_CUDA)
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      list.push_back({{"index", i}, {"name", "unknown (cudaGetDeviceProperties failed)"}});
      continue;
    }
    list.push_back({{"index", i},
                    {"name", prop.name},
                    {"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
                    {"memory_gib", static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0)},
                    {"multiprocessors", prop.multiProcessorCount}});
  }
#else
  for (int i = 0; i < count; ++i) list.push_back({{"index", i}});
#endif
  return list;
}

}  // namespace

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json system_info() {
#if defined(GAU_WITH_CUDA)
  constexpr bool cuda = true;
#else
  constexpr bool cuda = false;
#endif
#if defined(GAU_WITH_CUDNN)
  constexpr bool cudnn = true;
#else
  constexpr bool cudnn = false;
#endif
#if defined(GAU_WITH_NCCL)
  constexpr bool nccl = true;
#else
  constexpr bool nccl = false;
#endif
#if defined(GAU_WITH_MPI)
  constexpr bool mpi = true;
#else
  constexpr bool mpi = false;
#endif
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const ThreadCounts threads = thread_counts();
  return {{"version", gau::version()},
          {"backends", {{"cpu", true}, {"cuda", cuda}, {"cudnn", cudnn}, {"nccl", nccl}, {"mpi", mpi}}},
          {"gpus", gpus()},
          {"blas",
           {{"library", "OpenBLAS"},
            {"config", openblas_get_config()},
            {"core", openblas_get_corename()},
            {"OPENBLAS_CORETYPE", coretype ? coretype : ""}}},
          {"threads",
           {{"openmp", threads.openmp},
            {"openblas", threads.openblas},
            {"agree", threads.agree()},
            {"hardware", std::thread::hardware_concurrency()}}}};
}

}  // namespace gau::apps
