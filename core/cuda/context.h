#pragma once
// Device and stream context for CUDA code: which device is current, which cudaStream_t an op
// launches on, and launch sizes.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda/cuda_check.h"
#include "core/device.h"
#include "core/stream.h"

namespace gau::cuda {

// RAII: makes `device` current for a scope and restores the previous device.
class DeviceGuard {
 public:
  explicit DeviceGuard(Device device) : DeviceGuard(device.index) {}
  explicit DeviceGuard(int index) {
    GAU_CUDA_CHECK(cudaGetDevice(&prev_));
    if (prev_ != index) GAU_CUDA_CHECK(cudaSetDevice(index));
    index_ = index;
  }
  ~DeviceGuard() {
    if (prev_ != index_) cudaSetDevice(prev_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = 0;
  int index_ = 0;
};

// gau's null stream handle means the calling thread's default stream.
inline cudaStream_t to_cuda_stream(const Stream& s) {
  return s.handle ? static_cast<cudaStream_t>(s.handle) : cudaStreamPerThread;
}

// The stream ops on `device` launch on from this thread.
inline cudaStream_t current_cuda_stream(Device device) { return to_cuda_stream(current_stream(device)); }

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items: enough to fill the GPU, never more than needed.
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(b, 1, 65536));
}

}  // namespace gau::cuda
