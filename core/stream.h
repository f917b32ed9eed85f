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

class Tensor;

// Tells the allocator that `tensor`'s memory is used by work queued on `stream`, a stream other
// than the one it was allocated on (a side stream for communication, say). When the tensor's
// storage is freed, its block goes back to the cache only after the work queued on `stream` until
// that free has completed: an event is recorded on `stream` at the free and checked with
// cudaEventQuery at later allocations, so the host never waits for it. Without this, the block
// could be handed to new work on the allocating stream while `stream` still reads or writes it.
//
// For the calling thread's default stream (null handle), which other threads cannot name, a free
// on another thread covers the work queued there up to the last record_stream call: call it after
// that work. No-op on CPU, where work is synchronous. Throws when the tensor is undefined or the
// stream is on another device.
void record_stream(const Tensor& tensor, Stream stream);

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
