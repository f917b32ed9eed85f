#pragma once
// An owned cudaEvent_t without timing (the cheap kind, for ordering and completion queries).
#include <cuda_runtime.h>

#include "core/cuda/cuda_check.h"

namespace gau::distributed::nccl {

class CudaEvent {
 public:
  CudaEvent() { GAU_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
  ~CudaEvent() { cudaEventDestroy(event_); }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace gau::distributed::nccl
