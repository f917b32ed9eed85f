// CUDA caching allocator: statistics, stream-ordered reuse, cache release and the OOM message.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <string>

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
