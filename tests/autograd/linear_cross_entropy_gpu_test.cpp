// linear_cross_entropy on CUDA against the CPU backend: loss, d_h and d_w, in f32 and bf16, with
// the rows split into chunks and some rows ignored.
#include <gtest/gtest.h>

#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::on_cuda;

class CudaLinearCrossEntropyTest : public test::CudaTest {};

struct Result {
  double loss;
  Tensor d_h, d_w;  // on the CPU
};

Result run(const Tensor& h0, const Tensor& w0, const Tensor& targets) {
  Tensor h = ops::clone(h0).requires_grad_(), w = ops::clone(w0).requires_grad_();
  Tensor loss = linear_cross_entropy(h, w, targets, {.ce = {.ignore_index = -1}, .chunk_rows = 24});
  loss.backward();
  return {loss.item(), ops::to_device(h.grad(), Device::cpu()), ops::to_device(w.grad(), Device::cpu())};
}

TEST_F(CudaLinearCrossEntropyTest, MatchesTheCpu) {
  std::vector<int64_t> t(100);
  for (int64_t i = 0; i < 100; ++i) t[i] = i % 7 == 0 ? -1 : (i * 13) % 300;
  Tensor targets = ops::from_vector<int64_t>(t, {100});
  for (DType dt : {DType::f32, DType::bf16}) {
    Tensor h = test::randn({100, 32}, dt, 1), w = test::randn({300, 32}, dt, 2);
    Result cpu = run(h, w, targets);
    Result gpu = run(on_cuda(h), on_cuda(w), on_cuda(targets));
    const double tol = test::parity_tol(dt);
    EXPECT_NEAR(gpu.loss, cpu.loss, tol * (1 + std::abs(cpu.loss))) << dtype_name(dt);
    GAU_EXPECT_CLOSE(gpu.d_h, cpu.d_h, tol, tol);
    GAU_EXPECT_CLOSE(gpu.d_w, cpu.d_w, tol, tol);
  }
}

}  // namespace
}  // namespace gau
