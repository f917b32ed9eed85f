// CPU caching allocator: statistics, reuse, and the out-of-memory error.
#include <gtest/gtest.h>

#include "core/allocator.h"
#include "core/tensor.h"

using namespace gau;

TEST(Allocator, TracksCurrentAndPeakBytes) {
  reset_peak_memory();
  size_t base = memory_stats().current;
  {
    Tensor a = Tensor::empty({1024}, DType::f32);  // 4 KiB
    Tensor b = Tensor::empty({2048}, DType::f32);  // 8 KiB
    EXPECT_EQ(memory_stats().current, base + 12288);
  }
  EXPECT_EQ(memory_stats().current, base);
  EXPECT_GE(memory_stats().peak, base + 12288);
  reset_peak_memory();
  EXPECT_EQ(memory_stats().peak, base);
}

TEST(Allocator, ReusesCachedBlocks) {
  void* first;
  {
    Tensor a = Tensor::empty({4096}, DType::f32);
    first = a.data_ptr();
  }
  size_t before = memory_stats().device_allocations;
  Tensor b = Tensor::empty({4096}, DType::f32);
  EXPECT_EQ(b.data_ptr(), first);
  EXPECT_EQ(memory_stats().device_allocations, before);
  EXPECT_GE(memory_stats().cached, 0u);
  empty_cache();
  EXPECT_EQ(memory_stats().cached, 0u);
}

TEST(Allocator, HugeAllocationRaisesOutOfMemoryWithFigures) {
  try {
    Tensor t = Tensor::empty({int64_t{1} << 50}, DType::f32);  // 4 PiB
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("out of memory on cpu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("asked for 4503599627370496 bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("in use"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cached"), std::string::npos) << msg;
  }
}

TEST(Allocator, CudaWithoutCudaIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present";
#ifndef GAU_WITH_CUDA
  try {
    Tensor t = Tensor::empty({4}, DType::f32, Device::cuda(0));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos) << e.what();
  }
#endif
}
