// The CUDA side of core/stream.h and core/allocator.h: registered at load time, so that core/
// needs no CUDA headers and a CPU-only machine still loads libgau.
#include <cuda_runtime.h>

#include <array>
#include <mutex>

#include "core/allocator.h"
#include "core/cuda/caching_allocator.h"
#include "core/cuda/context.h"
#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "core/stream.h"

namespace gau::cuda {

namespace {

constexpr int kMaxDevices = 64;

// Per thread and device: the current stream handle (null = the thread's default stream).
thread_local std::array<void*, kMaxDevices> t_current{};

void check_index(int index) {
  GAU_CHECK(index >= 0 && index < kMaxDevices, "cuda: device index ", index, " is out of range [0, ", kMaxDevices,
            ")");
}

Stream hook_current(int index) {
  check_index(index);
  return Stream{Device::cuda(index), t_current[index]};
}

Stream hook_set_current(Stream s) {
  GAU_CHECK(s.device.is_cuda(), "set_current_stream: expected a CUDA stream, got one on ", s.device);
  check_index(s.device.index);
  Stream prev{s.device, t_current[s.device.index]};
  t_current[s.device.index] = s.handle;
  return prev;
}

void hook_sync_stream(Stream s) {
  DeviceGuard guard(s.device);
  GAU_CUDA_CHECK(cudaStreamSynchronize(to_cuda_stream(s)));
}

void hook_sync_device(int index) {
  DeviceGuard guard(index);
  GAU_CUDA_CHECK(cudaDeviceSynchronize());
}

// 0 when there is no driver or no GPU: a CPU-only machine must not throw here.
int hook_device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

Allocator& allocator_factory(int index) {
  GAU_CHECK(index >= 0 && index < hook_device_count(), "cuda allocator: no device cuda:", index, " (",
            hook_device_count(), " visible)");
  return caching_allocator(index);
}

[[maybe_unused]] const bool registered = [] {
  CudaStreamHooks hooks;
  hooks.current = hook_current;
  hooks.set_current = hook_set_current;
  hooks.synchronize_stream = hook_sync_stream;
  hooks.synchronize_device = hook_sync_device;
  hooks.device_count = hook_device_count;
  register_cuda_stream_hooks(hooks);
  register_cuda_allocator(allocator_factory);
  return true;
}();

}  // namespace

}  // namespace gau::cuda
