// record_stream (core/stream.h) on CPU, where work is synchronous: it is accepted and changes
// nothing, and a bad call is refused before any backend is asked.
#include <gtest/gtest.h>

#include <string>

#include "core/allocator.h"
#include "core/error.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace gau {
namespace {

TEST(RecordStream, IsANoOpOnCpu) {
  Tensor t = Tensor::empty({1024}, DType::f32, Device::cpu());
  void* block = t.storage()->data();
  record_stream(t, current_stream(Device::cpu()));
  const AllocatorStats before = memory_stats(Device::cpu());
  t = Tensor();
  EXPECT_EQ(memory_stats(Device::cpu()).pending, before.pending);
  Tensor again = Tensor::empty({1024}, DType::f32, Device::cpu());
  EXPECT_EQ(again.storage()->data(), block);  // back in the cache at once
}

TEST(RecordStream, RefusesAnUndefinedTensor) {
  try {
    record_stream(Tensor(), current_stream(Device::cpu()));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("undefined"), std::string::npos) << e.what();
  }
}

TEST(RecordStream, RefusesAStreamOnAnotherDevice) {
  Tensor t = Tensor::empty({4}, DType::f32, Device::cpu());
  try {
    record_stream(t, Stream{Device::cuda(0), nullptr});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cpu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cuda:0"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace gau
