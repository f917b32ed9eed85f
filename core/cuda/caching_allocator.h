#pragma once
// Per-device caching allocator for CUDA memory, stream-ordered.
//
// A freed block goes back to a free list keyed by (stream, rounded size) and is handed out again
// only to an allocation on that same stream: work queued on one stream runs in order, so a block
// whose last use was queued on stream s can be reused by later work on s without any sync. Blocks
// are never shared across streams (no events needed). For the thread's default stream (null
// handle) the key also holds the allocating thread, since each thread has its own default stream.
//
// Sizes: requests round up to 512 B; from 1 MiB they round up to a multiple of 2 MiB, so that
// activations of slightly varying size share blocks. A request may take a cached block up to
// twice its rounded size (small) or 2 MiB larger (large), counted at the block's size.
//
// On cudaMalloc failure the allocator syncs the device, frees every cached block and retries once,
// then throws OutOfMemoryError ("out of memory on cuda:N: tried to allocate ...").
#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"

namespace gau::cuda {

class CachingAllocator final : public Allocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  void* allocate(size_t bytes, Stream stream) override;
  void deallocate(void* ptr, size_t bytes, Stream stream) override;
  AllocatorStats stats() const override;
  void reset_peak() override;
  void empty_cache() override;

  static size_t round_size(size_t bytes);

 private:
  // (stream, thread for the default stream, block size): ordered so lower_bound finds best fit.
  using Key = std::tuple<cudaStream_t, std::thread::id, size_t>;
  struct Block {
    size_t size;
    cudaStream_t stream;
    std::thread::id thread;
  };
  void release_cache_locked();  // cudaFree every cached block; caller holds mu_

  int device_;
  mutable std::mutex mu_;
  std::multimap<Key, void*> free_;
  std::unordered_map<void*, Block> live_;
  AllocatorStats stats_;
};

// The allocator of device `index` (created on first use, lives until the process ends).
CachingAllocator& caching_allocator(int index);

}  // namespace gau::cuda
