#pragma once
// Storage: one allocation on one device, shared by every view of it. The version counter lives
// here so that all views of a buffer see an in-place change (autograd checks it on saved tensors).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"
#include "core/stream.h"

namespace gau {

class Storage {
 public:
  // Allocates `bytes` on `device` from its caching allocator, on the current stream.
  Storage(size_t bytes, Device device);
  // Wraps memory owned elsewhere (not freed, not counted in allocator stats).
  Storage(void* external, size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

  // Marks the buffer as used by work queued on `stream` (see gau::record_stream in core/stream.h).
  // Memory owned elsewhere is not tracked.
  void record_stream(Stream stream);

  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  Stream stream_;  // stream it was allocated on, for stream-ordered reuse
  bool owned_ = true;
  std::atomic<uint64_t> version_{0};
};

}  // namespace gau
