// CUDA caching allocator: statistics, stream-ordered reuse, record_stream, cache release and the
// OOM message.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/allocator.h"
#include "core/device.h"
#include "core/error.h"
#include "core/stream.h"
#include "core/tensor.h"
#include "tests/support/cuda_fixture.h"

namespace gau {
namespace {

class CudaAllocatorTest : public test::CudaTest {
 protected:
  void SetUp() override {
    CudaTest::SetUp();
    if (IsSkipped()) return;
    synchronize(Device::cuda(0));
    empty_cache(Device::cuda(0));
  }
};

TEST_F(CudaAllocatorTest, StatsTrackCurrentPeakAndCached) {
  const Device dev = Device::cuda(0);
  const AllocatorStats before = memory_stats(dev);
  reset_peak_memory(dev);
  {
    Tensor t = Tensor::empty({1000, 1000}, DType::f32, dev);  // 4 MB, rounded to 2 MiB multiples
    AllocatorStats s = memory_stats(dev);
    EXPECT_GE(s.current, before.current + 4000000);
    EXPECT_GE(s.peak, s.current);
    EXPECT_EQ(s.allocations, before.allocations + 1);
  }
  AllocatorStats after = memory_stats(dev);
  EXPECT_EQ(after.current, before.current);
  EXPECT_GE(after.cached, before.cached + 4000000);
  EXPECT_GE(after.peak, before.current + 4000000);
  reset_peak_memory(dev);
  EXPECT_EQ(memory_stats(dev).peak, memory_stats(dev).current);
  empty_cache(dev);
  EXPECT_EQ(memory_stats(dev).cached, 0u);
}

TEST_F(CudaAllocatorTest, ReusesBlocksOnTheSameStream) {
  const Device dev = Device::cuda(0);
  void* first = nullptr;
  {
    Tensor t = Tensor::empty({4096}, DType::f32, dev);
    first = t.data_ptr();
  }
  const size_t device_allocs = memory_stats(dev).device_allocations;
  Tensor again = Tensor::empty({4096}, DType::f32, dev);
  EXPECT_EQ(again.data_ptr(), first);
  EXPECT_EQ(memory_stats(dev).device_allocations, device_allocs);
}

TEST_F(CudaAllocatorTest, DoesNotReuseAcrossStreams) {
  const Device dev = Device::cuda(0);
  void* first = nullptr;
  {
    Tensor t = Tensor::empty({8192}, DType::f32, dev);
    first = t.data_ptr();
  }
  cudaStream_t side = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking), cudaSuccess);
  {
    StreamGuard guard(Stream{dev, side});
    Tensor other = Tensor::empty({8192}, DType::f32, dev);
    EXPECT_NE(other.data_ptr(), first);
  }
  synchronize(Stream{dev, side});
  empty_cache(dev);
  cudaStreamDestroy(side);
}

// Holds a stream, as a long kernel would, until the test opens it: a host function queued on the
// stream spins on `open`. It gives up after 20 s so that a broken test cannot hang the run.
struct Gate {
  std::atomic<bool> open{false};
  static void CUDART_CB wait(void* self) {
    auto* gate = static_cast<Gate*>(self);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!gate->open.load() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
};

// Opens the gate when the test leaves its scope, whatever assertion failed, and waits for the
// device, so that no host function still reads the gate once it is destroyed.
struct GateOpener {
  Gate& gate;
  ~GateOpener() {
    gate.open = true;
    cudaDeviceSynchronize();
  }
};

std::vector<uint8_t> host_bytes(const Tensor& t) {
  std::vector<uint8_t> out(t.nbytes());
  EXPECT_EQ(cudaMemcpy(out.data(), t.data_ptr(), out.size(), cudaMemcpyDeviceToHost), cudaSuccess);
  return out;
}

// The hazard record_stream exists for: a block freed on the main stream while a side stream still
// writes it must not go to the next main-stream allocation. The side stream is held by a gate, so
// its write is certainly still queued when the allocation is made.
TEST_F(CudaAllocatorTest, RecordStreamKeepsABlockFromReuseUntilTheSideStreamIsDone) {
  const Device dev = Device::cuda(0);
  constexpr int64_t n = 4096;  // 16 KiB of f32, exactly one rounded block
  cudaStream_t side = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking), cudaSuccess);
  Tensor t = Tensor::empty({n}, DType::f32, dev);
  void* block = t.data_ptr();
  // A cached block one granule larger (made after t, so t is not it): the allocation made while
  // the side stream is held finds it and never calls cudaMalloc, which may wait for running work.
  // t's block, if wrongly back in the cache, would be the better fit.
  void* spare = nullptr;
  {
    Tensor larger = Tensor::empty({n + 128}, DType::f32, dev);
    spare = larger.data_ptr();
  }
  const size_t pending = memory_stats(dev).pending;
  {
    Gate gate;
    GateOpener opener{gate};
    ASSERT_EQ(cudaLaunchHostFunc(side, Gate::wait, &gate), cudaSuccess);
    ASSERT_EQ(cudaMemsetAsync(block, 0xAB, t.nbytes(), side), cudaSuccess);  // queued behind the gate
    record_stream(t, Stream{dev, side});
    t = Tensor();
    EXPECT_EQ(memory_stats(dev).pending, pending + n * 4);

    Tensor u = Tensor::empty({n}, DType::f32, dev);
    EXPECT_NE(u.data_ptr(), block) << "handed out while the side stream still writes it";
    EXPECT_EQ(u.data_ptr(), spare);
    ASSERT_EQ(cudaMemsetAsync(u.data_ptr(), 0x11, u.nbytes(), cudaStreamPerThread), cudaSuccess);
    gate.open = true;
    ASSERT_EQ(cudaStreamSynchronize(side), cudaSuccess);
    synchronize(dev);
    for (uint8_t byte : host_bytes(u)) ASSERT_EQ(byte, 0x11) << "the side stream's write reached u";
  }
  // Its event has completed: the next allocation on the main stream takes the block back.
  Tensor again = Tensor::empty({n}, DType::f32, dev);
  EXPECT_EQ(again.data_ptr(), block);
  EXPECT_EQ(memory_stats(dev).pending, pending);
  cudaStreamDestroy(side);
}

// A use on another thread's default stream, which the freeing thread cannot name: the event
// recorded at that thread's record_stream call orders the reuse.
TEST_F(CudaAllocatorTest, RecordStreamOnAnotherThreadsDefaultStream) {
  const Device dev = Device::cuda(0);
  constexpr int64_t n = 4096;
  cudaStream_t home = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&home, cudaStreamNonBlocking), cudaSuccess);
  StreamGuard on_home(Stream{dev, home});  // t and the later allocations live on `home`
  Tensor t = Tensor::empty({n}, DType::f32, dev);
  void* block = t.data_ptr();
  void* spare = nullptr;  // as in the test above
  {
    Tensor larger = Tensor::empty({n + 128}, DType::f32, dev);
    spare = larger.data_ptr();
  }
  Gate gate;
  GateOpener opener{gate};
  std::promise<void> used_promise, exit_promise;
  std::future<void> used = used_promise.get_future();
  std::shared_future<void> may_exit = exit_promise.get_future().share();
  // The worker stays alive (with its default stream) until the test ends.
  std::thread worker([&] {
    try {
      EXPECT_EQ(cudaLaunchHostFunc(cudaStreamPerThread, Gate::wait, &gate), cudaSuccess);
      EXPECT_EQ(cudaMemsetAsync(block, 0xAB, n * 4, cudaStreamPerThread), cudaSuccess);
      record_stream(t, current_stream(dev));  // this thread's default stream
      used_promise.set_value();
    } catch (...) {
      used_promise.set_exception(std::current_exception());
    }
    may_exit.wait();
  });
  struct Finish {
    std::promise<void>& exit;
    std::thread& worker;
    ~Finish() {
      exit.set_value();
      worker.join();
    }
  } finish{exit_promise, worker};
  used.get();    // rethrows what the worker threw
  t = Tensor();  // freed here, on the main thread
  Tensor u = Tensor::empty({n}, DType::f32, dev);
  EXPECT_NE(u.data_ptr(), block) << "handed out while the worker's default stream still writes it";
  EXPECT_EQ(u.data_ptr(), spare);
  gate.open = true;
  synchronize(dev);
  Tensor again = Tensor::empty({n}, DType::f32, dev);
  EXPECT_EQ(again.data_ptr(), block);
  u = Tensor();
  again = Tensor();
  empty_cache(dev);  // no cached block keeps `home`'s handle once it is destroyed
  cudaStreamDestroy(home);
}

// A use on the block's own stream needs no event: the block is reusable at once.
TEST_F(CudaAllocatorTest, RecordStreamOnTheOwnStreamChangesNothing) {
  const Device dev = Device::cuda(0);
  Tensor t = Tensor::empty({4096}, DType::f32, dev);
  void* block = t.data_ptr();
  record_stream(t, current_stream(dev));
  const size_t pending = memory_stats(dev).pending;
  t = Tensor();
  EXPECT_EQ(memory_stats(dev).pending, pending);
  Tensor again = Tensor::empty({4096}, DType::f32, dev);
  EXPECT_EQ(again.data_ptr(), block);
}

TEST_F(CudaAllocatorTest, EmptyCacheReleasesPendingBlocks) {
  const Device dev = Device::cuda(0);
  cudaStream_t side = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking), cudaSuccess);
  {
    Tensor t = Tensor::empty({4096}, DType::f32, dev);
    ASSERT_EQ(cudaMemsetAsync(t.data_ptr(), 0, t.nbytes(), side), cudaSuccess);
    record_stream(t, Stream{dev, side});
  }
  EXPECT_GT(memory_stats(dev).pending, 0u);
  empty_cache(dev);  // syncs the device first, so the side stream's work is done
  EXPECT_EQ(memory_stats(dev).pending, 0u);
  EXPECT_EQ(memory_stats(dev).cached, 0u);
  cudaStreamDestroy(side);
}

TEST_F(CudaAllocatorTest, RecordStreamRefusesAStreamOnAnotherDevice) {
  Tensor t = Tensor::empty({16}, DType::f32, Device::cuda(0));
  EXPECT_THROW(record_stream(t, Stream{Device::cpu(), nullptr}), Error);
}

TEST_F(CudaAllocatorTest, ZeroBytesGivesAUniquePointer) {
  Tensor a = Tensor::empty({0}, DType::f32, Device::cuda(0));
  Tensor b = Tensor::empty({0}, DType::f32, Device::cuda(0));
  EXPECT_NE(a.storage()->data(), nullptr);
  EXPECT_NE(a.storage()->data(), b.storage()->data());
}

TEST_F(CudaAllocatorTest, AbsurdAllocationThrowsOutOfMemory) {
  const Device dev = Device::cuda(0);
  const size_t current = memory_stats(dev).current;
  try {
    Tensor t = Tensor::empty({int64_t(1) << 48}, DType::f32, dev);  // 1 PiB
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("out of memory", 0), 0u) << msg;
    EXPECT_NE(msg.find("cuda:0"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string((size_t(1) << 48) * 4)), std::string::npos) << msg;
    EXPECT_NE(msg.find("in use"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cached"), std::string::npos) << msg;
  }
  EXPECT_EQ(memory_stats(dev).current, current);
  // The allocator still works afterwards.
  Tensor ok = Tensor::empty({16}, DType::f32, dev);
  EXPECT_NE(ok.data_ptr(), nullptr);
}

TEST_F(CudaAllocatorTest, DeviceCountAndStreamHooks) {
  EXPECT_GE(cuda_device_count(), 1);
  const Device dev = Device::cuda(0);
  Stream s = current_stream(dev);
  EXPECT_EQ(s.device, dev);
  synchronize(s);
  synchronize(dev);
}

}  // namespace
}  // namespace gau
