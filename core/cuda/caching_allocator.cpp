#include "core/cuda/caching_allocator.h"

#include <algorithm>
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

// DeviceGuard for deallocate, which runs in Storage's destructor: reports failures instead of
// throwing.
class QuietDeviceGuard {
 public:
  explicit QuietDeviceGuard(int index) {
    ok_ = cudaGetDevice(&prev_) == cudaSuccess && (prev_ == index || cudaSetDevice(index) == cudaSuccess);
    if (!ok_) cudaGetLastError();
    index_ = index;
  }
  ~QuietDeviceGuard() {
    if (ok_ && prev_ != index_) cudaSetDevice(prev_);
  }
  QuietDeviceGuard(const QuietDeviceGuard&) = delete;
  QuietDeviceGuard& operator=(const QuietDeviceGuard&) = delete;
  bool ok() const { return ok_; }

 private:
  int prev_ = 0;
  int index_ = 0;
  bool ok_ = false;
};
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
  if (!pending_.empty()) {
    DeviceGuard guard(device_);
    process_pending_locked();
  }
  auto it = free_.lower_bound(Key{s, thread, size});
  if (it != free_.end() && std::get<0>(it->first) == s && std::get<1>(it->first) == thread &&
      std::get<2>(it->first) <= max_fit) {
    size_t block_size = std::get<2>(it->first);
    void* ptr = it->second;
    free_.erase(it);
    stats_.cached -= block_size;
    live_.emplace(ptr, Block{block_size, s, thread, {}});
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
  live_.emplace(ptr, Block{size, s, thread, {}});
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
  Block b = std::move(it->second);
  live_.erase(it);
  stats_.current -= b.size;
  if (b.uses.empty()) {
    // Keyed by the stream the block was allocated on: its uses were queued there.
    stats_.cached += b.size;
    free_.emplace(Key{b.stream, b.thread, b.size}, ptr);
    return;
  }
  Pending p{ptr, std::move(b), {}};
  QuietDeviceGuard guard(device_);
  if (guard.ok() && record_uses_locked(p.block, p.events)) {
    stats_.pending += p.block.size;
    pending_.push_back(std::move(p));
    return;
  }
  // Without events the other streams' work cannot be ordered before a reuse: wait for the whole
  // device instead, which is slow but never hands out memory still in use.
  std::fprintf(stderr,
               "gau: cuda allocator on cuda:%d could not record stream events for %p (%s); syncing the device\n",
               device_, ptr, cudaGetErrorString(cudaGetLastError()));
  if (cudaDeviceSynchronize() != cudaSuccess) cudaGetLastError();
  idle_events_.insert(idle_events_.end(), p.events.begin(), p.events.end());
  stats_.cached += p.block.size;
  free_.emplace(Key{p.block.stream, p.block.thread, p.block.size}, ptr);
}

void CachingAllocator::record_stream(void* ptr, Stream stream) {
  GAU_CHECK(stream.device == Device::cuda(device_), "record_stream: the memory is on cuda:", device_,
            " but the stream on ", stream.device);
  const cudaStream_t s = to_cuda_stream(stream);
  const std::thread::id thread = stream.handle ? std::thread::id() : std::this_thread::get_id();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(ptr);
  GAU_CHECK(it != live_.end(), "record_stream: ", ptr, " is not a live allocation of the cuda:", device_,
            " allocator");
  Block& b = it->second;
  if (b.stream == s && b.thread == thread) return;  // its own stream orders every use
  auto use = std::find_if(b.uses.begin(), b.uses.end(),
                          [&](const Use& u) { return u.stream == s && u.thread == thread; });
  if (use == b.uses.end()) use = b.uses.insert(b.uses.end(), Use{s, thread, nullptr});
  if (stream.handle == nullptr) {
    // A free on another thread cannot name this thread's default stream: keep an event of the
    // work queued there so far.
    DeviceGuard guard(device_);
    if (use->at_call == nullptr) use->at_call = take_event_locked();
    GAU_CHECK(use->at_call != nullptr, "record_stream: could not create a CUDA event on cuda:", device_);
    GAU_CUDA_CHECK(cudaEventRecord(use->at_call, s));
  }
}

cudaEvent_t CachingAllocator::take_event_locked() {
  if (!idle_events_.empty()) {
    cudaEvent_t ev = idle_events_.back();
    idle_events_.pop_back();
    return ev;
  }
  cudaEvent_t ev = nullptr;
  if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return ev;
}

bool CachingAllocator::record_uses_locked(Block& block, std::vector<cudaEvent_t>& events) {
  const std::thread::id self = std::this_thread::get_id();
  bool ok = true;
  for (Use& u : block.uses) {
    cudaEvent_t ev = u.at_call;
    u.at_call = nullptr;  // owned by `events` from here
    if (u.thread == std::thread::id() || u.thread == self) {
      // A named stream, or this thread's own default stream: an event now covers every use
      // queued there before the free.
      if (ev == nullptr) ev = take_event_locked();
      if (ev == nullptr || cudaEventRecord(ev, u.stream) != cudaSuccess) ok = false;
    }
    // Otherwise another thread's default stream: its event from the last record_stream call.
    if (ev != nullptr) events.push_back(ev);
  }
  return ok;
}

void CachingAllocator::process_pending_locked() {
  for (size_t i = 0; i < pending_.size();) {
    std::vector<cudaEvent_t>& events = pending_[i].events;
    while (!events.empty()) {
      const cudaError_t st = cudaEventQuery(events.back());
      if (st == cudaErrorNotReady) {
        cudaGetLastError();  // not an error: the work is still running
        break;
      }
      GAU_CUDA_CHECK(st);
      idle_events_.push_back(events.back());
      events.pop_back();
    }
    if (!events.empty()) {
      ++i;
      continue;
    }
    const Pending& done = pending_[i];
    stats_.pending -= done.block.size;
    stats_.cached += done.block.size;
    free_.emplace(Key{done.block.stream, done.block.thread, done.block.size}, done.ptr);
    if (i + 1 != pending_.size()) pending_[i] = std::move(pending_.back());
    pending_.pop_back();
  }
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
  process_pending_locked();  // the device was synced: every pending event has completed
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
