#pragma once
// A stream is an ordered queue of work on a device. On CPU there is one implicit stream (work is
// synchronous); on CUDA it wraps a cudaStream_t (null = the per-thread default stream).
#include "core/device.h"

namespace gau {

struct Stream {
  Device device = Device::cpu();
  void* handle = nullptr;  // cudaStream_t on CUDA
  bool operator==(const Stream&) const = default;
};

// The stream that ops launched from this thread on `device` run on.
Stream current_stream(Device device);
// Sets the thread's current stream for its device; returns the previous one.
Stream set_current_stream(Stream stream);
// Blocks until all work queued on `stream` has finished (no-op on CPU).
void synchronize(Stream stream);
void synchronize(Device device);

// RAII: run a scope on another stream.
class StreamGuard {
 public:
  explicit StreamGuard(Stream s) : prev_(set_current_stream(s)) {}
  ~StreamGuard() { set_current_stream(prev_); }
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Stream prev_;
};

// Hooks the CUDA backend registers at load time, so core/ needs no CUDA headers.
struct CudaStreamHooks {
  Stream (*current)(int device_index) = nullptr;
  Stream (*set_current)(Stream) = nullptr;
  void (*synchronize_stream)(Stream) = nullptr;
  void (*synchronize_device)(int device_index) = nullptr;
  int (*device_count)() = nullptr;
};
void register_cuda_stream_hooks(const CudaStreamHooks& hooks);
const CudaStreamHooks* cuda_stream_hooks();  // null when no CUDA backend is loaded

}  // namespace gau
