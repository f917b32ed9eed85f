#include "tests/support/cuda_fixture.h"

#include "core/device.h"
#include "core/ops/copy.h"

namespace gau::test {

void CudaTest::SetUp() {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
}

Tensor on_cuda(const Tensor& x) { return ops::to_device(x, Device::cuda(0)); }

}  // namespace gau::test
