#include "core/allocator.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace gau {

namespace {

// Host caching allocator. Sizes are rounded (64 B below 1 MiB, 1 MiB granularity above) so that
// the steady-state tensors of a training step hit the cache; freed blocks are kept per rounded
// size. Large blocks above kMaxCachedBlock go straight back to the OS: caching them would hold
// gigabytes for one-off buffers.
//
// A cache hit and a free do no heap allocation of their own (a free list per size is a vector
// that keeps its capacity, and the block's size comes from the caller, who passes back the bytes
// it asked for): every tensor of a 1-element op used to pay two map nodes here.
class CpuCachingAllocator final : public Allocator {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kMaxCachedBlock = size_t{1} << 30;

  void* allocate(size_t bytes, Stream) override {
    const size_t size = round(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.allocations;
    void* ptr = nullptr;
    if (std::vector<void*>* list = free_list(size); list && !list->empty()) {
      ptr = list->back();
      list->pop_back();
      stats_.cached -= size;
    } else {
      ptr = system_alloc(size);
      if (!ptr) {
        release_cache_locked();
        ptr = system_alloc(size);
      }
      if (!ptr) {
        GAU_FAIL("out of memory on cpu: asked for ", bytes, " bytes (", human(bytes), "), ", human(stats_.current),
                 " in use by tensors, ", human(stats_.cached), " cached (the cache was freed and the allocation retried)");
      }
      ++stats_.device_allocations;
    }
    stats_.current += size;
    if (stats_.current > stats_.peak) stats_.peak = stats_.current;
    return ptr;
  }

  // `bytes` is what allocate was asked for (Storage passes it back).
  void deallocate(void* ptr, size_t bytes, Stream) override {
    const size_t size = round(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.current -= size;
    if (size > kMaxCachedBlock) {
      std::free(ptr);
      return;
    }
    free_[size].push_back(ptr);
    stats_.cached += size;
  }

  // Host work is synchronous: when a block is freed, nothing can still be using it.
  void record_stream(void*, Stream) override {}

  AllocatorStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  void reset_peak() override {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak = stats_.current;
  }

  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mu_);
    release_cache_locked();
  }

 private:
  static size_t round(size_t bytes) {
    if (bytes == 0) return kAlignment;
    constexpr size_t kMiB = size_t{1} << 20;
    if (bytes < kMiB) return (bytes + kAlignment - 1) / kAlignment * kAlignment;
    return (bytes + kMiB - 1) / kMiB * kMiB;
  }
  static void* system_alloc(size_t size) {
    if (size > (size_t{1} << 48)) return nullptr;  // beyond any address space: fail fast
    return std::aligned_alloc(kAlignment, size);
  }
  static std::string human(size_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 5) v /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
  }
  void release_cache_locked() {
    for (auto& [size, list] : free_) {
      for (void* ptr : list) std::free(ptr);
      list.clear();
    }
    stats_.cached = 0;
  }
  std::vector<void*>* free_list(size_t size) {
    auto it = free_.find(size);
    return it == free_.end() ? nullptr : &it->second;
  }

  mutable std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // rounded size -> freed blocks
  AllocatorStats stats_;
};

CudaAllocatorFactory g_cuda_factory = nullptr;

}  // namespace

void register_cuda_allocator(CudaAllocatorFactory factory) { g_cuda_factory = factory; }

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) {
    static CpuCachingAllocator* cpu = new CpuCachingAllocator();  // never destroyed: outlives static tensors
    return *cpu;
  }
  GAU_CHECK(g_cuda_factory != nullptr, "cannot allocate on ", device, ": gau was built without CUDA");
  return g_cuda_factory(device.index);
}

AllocatorStats memory_stats(Device device) { return allocator_for(device).stats(); }
void reset_peak_memory(Device device) { allocator_for(device).reset_peak(); }
void empty_cache(Device device) { allocator_for(device).empty_cache(); }

}  // namespace gau
