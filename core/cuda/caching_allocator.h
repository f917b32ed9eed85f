#pragma once
// Per-device caching allocator for CUDA memory, stream-ordered.
//
// A freed block goes back to a free list keyed by (stream, rounded size) and is handed out again
// only to an allocation on that same stream: work queued on one stream runs in order, so a block
// whose last use was queued on stream s can be reused by later work on s without any sync. For the
// thread's default stream (null handle) the key also holds the allocating thread, since each thread
// has its own default stream.
//
// A block also used on other streams (record_stream) is not ordered by that: at its free, an event
// is recorded on each of those streams and the block waits in a pending list. Every allocation
// first polls the pending events (cudaEventQuery, never blocking) and returns to the free list the
// blocks whose events have all completed. empty_cache and the OOM retry sync the device first, so
// every pending block is released there too.
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
  void record_stream(void* ptr, Stream stream) override;
  AllocatorStats stats() const override;
  void reset_peak() override;
  void empty_cache() override;

  static size_t round_size(size_t bytes);

 private:
  // (stream, thread for the default stream, block size): ordered so lower_bound finds best fit.
  using Key = std::tuple<cudaStream_t, std::thread::id, size_t>;
  // A stream other than the block's own that its memory is used on. `thread` is set for a
  // thread's default stream only (as in Key); `at_call` is an event recorded there at the last
  // record_stream call, for a free on another thread, which cannot name that stream.
  struct Use {
    cudaStream_t stream;
    std::thread::id thread;
    cudaEvent_t at_call = nullptr;
  };
  struct Block {
    size_t size;
    cudaStream_t stream;
    std::thread::id thread;
    std::vector<Use> uses;
  };
  // A freed block whose other-stream uses may still be running.
  struct Pending {
    void* ptr;
    Block block;
    std::vector<cudaEvent_t> events;
  };
  void release_cache_locked();    // cudaFree every cached block; caller holds mu_ and has synced
  void process_pending_locked();  // moves blocks whose events completed to free_; throws on errors
  cudaEvent_t take_event_locked();  // from idle_events_, or a new one on this device
  // The events that order the block's reuse after its other-stream uses (recorded now on the
  // freeing thread). Returns false when an event could not be recorded.
  bool record_uses_locked(Block& block, std::vector<cudaEvent_t>& events);

  int device_;
  mutable std::mutex mu_;
  std::multimap<Key, void*> free_;
  std::unordered_map<void*, Block> live_;
  std::vector<Pending> pending_;
  std::vector<cudaEvent_t> idle_events_;  // completed events, kept for reuse
  AllocatorStats stats_;
};

// The allocator of device `index` (created on first use, lives until the process ends).
CachingAllocator& caching_allocator(int index);

}  // namespace gau::cuda
