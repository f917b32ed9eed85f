#pragma once
// Per-device caching allocators with byte statistics.
//
// Freed blocks go back to a cache keyed by rounded size (and, on CUDA, by the stream that used
// them last, so reuse is stream-ordered without a device sync). `current` counts bytes held by
// live tensors, `peak` its maximum since the last reset_peak(), `cached` the bytes kept for reuse,
// `pending` the bytes freed while work on another stream may still use them (record_stream).
// A failed allocation empties the cache and retries once, then throws OutOfMemoryError naming the
// bytes asked for, in use and cached.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"
#include "core/stream.h"

namespace gau {

struct AllocatorStats {
  size_t current = 0;  // bytes held by live allocations
  size_t peak = 0;     // max of `current` since the last reset_peak()
  size_t cached = 0;   // bytes in the free cache
  size_t pending = 0;  // bytes freed, waiting for work on other streams (record_stream) to finish
  size_t allocations = 0;  // number of allocate() calls (cache hits included)
  size_t device_allocations = 0;  // number of calls that went to malloc / cudaMalloc
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  // Never returns null: throws OutOfMemoryError instead. bytes == 0 gives a valid unique pointer.
  virtual void* allocate(size_t bytes, Stream stream) = 0;
  virtual void deallocate(void* ptr, size_t bytes, Stream stream) = 0;
  // `ptr` (a live allocation of this allocator) is used by work queued on `stream` too: once
  // freed, it is handed out again only after the work queued on `stream` up to the free has
  // completed. See gau::record_stream (core/stream.h).
  virtual void record_stream(void* ptr, Stream stream) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void reset_peak() = 0;
  virtual void empty_cache() = 0;
};

Allocator& allocator_for(Device device);

// Convenience wrappers over allocator_for(device).
AllocatorStats memory_stats(Device device = Device::cpu());
void reset_peak_memory(Device device = Device::cpu());
void empty_cache(Device device = Device::cpu());

// Registered by the CUDA backend at load time; null when built without CUDA.
using CudaAllocatorFactory = Allocator& (*)(int device_index);
void register_cuda_allocator(CudaAllocatorFactory factory);

}  // namespace gau
