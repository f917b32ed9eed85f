#include "core/cuda/caching_allocator.h"

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "core/cuda/context.h"
#include "core/cuda/cuda_check.h"
#include "core/error.h"

namespace gau::cuda {

namespace {
constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeThreshold = size_t(1) << 20;
constexpr size_t kLargeGranule = size_t(2) << 20;

std::string mib(size_t bytes) { return std::to_string(bytes / double(1 << 20)).substr(0, 10) + " MiB"; }
}  // namespace

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) return kSmallGranule;  // a valid, unique pointer for empty tensors
  if (bytes < kLargeThreshold) return (bytes + kSmallGranule - 1) / kSmallGranule * kSmallGranule;
  return (bytes + kLargeGranule - 1) / kLargeGranule * kLargeGranule;
}

void* CachingAllocator::allocate(size_t bytes, Stream stream) {
  const size_t size = round_size(bytes);
  cudaStream_t s = to_cuda_stream(stream);
  std::thread::id thread = stream.handle ? std::thread::id() : std::this_thread::get_id();
  const size_t max_fit = size < kLargeThreshold ? 2 * size : size + kLargeGranule;

  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.allocations;
  auto it = free_.lower_bound(Key{s, thread, size});
  if (it != free_.end() && std::get<0>(it->first) == s && std::get<1>(it->first) == thread &&
      std::get<2>(it->first) <= max_fit) {
    size_t block_size = std::get<2>(it->first);
    void* ptr = it->second;
    free_.erase(it);
    stats_.cached -= block_size;
    live_.emplace(ptr, Block{block_size, s, thread});
    stats_.current += block_size;
    stats_.peak = std::max(stats_.peak, stats_.current);
    return ptr;
  }

  DeviceGuard guard(device_);
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, size);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it before retrying
    // Cached blocks may still be in use by queued work on their streams: sync before freeing.
    GAU_CUDA_CHECK(cudaDeviceSynchronize());
    release_cache_locked();
    err = cudaMalloc(&ptr, size);
  }
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) cudaGetLastError();
    throw OutOfMemoryError("out of memory on cuda:" + std::to_string(device_) + ": tried to allocate " +
                           std::to_string(bytes) + " bytes (" + mib(bytes) + "); " + std::to_string(stats_.current) +
                           " bytes (" + mib(stats_.current) + ") in use by tensors, " +
                           std::to_string(stats_.cached) + " bytes cached, " + mib(free_bytes) + " free of " +
                           mib(total_bytes) + " on the device");
  }
  GAU_CUDA_CHECK(err);
  ++stats_.device_allocations;
  live_.emplace(ptr, Block{size, s, thread});
  stats_.current += size;
  stats_.peak = std::max(stats_.peak, stats_.current);
  return ptr;
}

void CachingAllocator::deallocate(void* ptr, size_t bytes, Stream stream) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(ptr);
  if (it == live_.end()) {
    // Called from Storage's destructor, where throwing would terminate the process.
    std::fprintf(stderr, "gau: cuda allocator on cuda:%d was asked to free %p, which it did not allocate\n", device_,
                 ptr);
    return;
  }
  Block b = it->second;
  live_.erase(it);
  stats_.current -= b.size;
  stats_.cached += b.size;
  // Keyed by the stream the block was allocated on: its uses were queued there.
  free_.emplace(Key{b.stream, b.thread, b.size}, ptr);
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak = stats_.current;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  DeviceGuard guard(device_);
  GAU_CUDA_CHECK(cudaDeviceSynchronize());
  release_cache_locked();
}

void CachingAllocator::release_cache_locked() {
  for (auto& [key, ptr] : free_) GAU_CUDA_CHECK(cudaFree(ptr));
  free_.clear();
  stats_.cached = 0;
}

CachingAllocator& caching_allocator(int index) {
  static std::array<std::unique_ptr<CachingAllocator>, 64>* allocators =
      new std::array<std::unique_ptr<CachingAllocator>, 64>();  // leaked: tensors may outlive static teardown
  static std::mutex mu;
  GAU_CHECK(index >= 0 && index < 64, "cuda allocator: device index ", index, " out of range");
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = (*allocators)[index];
  if (!slot) slot = std::make_unique<CachingAllocator>(index);
  return *slot;
}

}  // namespace gau::cuda
