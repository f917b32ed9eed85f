// CUDA cross-entropy against the CPU backend, with ignore_index and label smoothing.
// Tolerances (atol = rtol): f64 1e-12, f32 1e-5, f16/bf16 logits 1e-4 for the f32 loss and
// lse (computed in f32 from the same inputs) and 2e-3/2e-2 for the rounded d_logits.
#include <gtest/gtest.h>

#include <string>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/loss.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::kFloatTypes;
using test::on_cuda;
using test::parity_tol;

constexpr test::PerDType tol_loss{.f64 = 1e-12, .f32 = 1e-5, .bf16 = 1e-4, .f16 = 1e-4, .other = 1e-4};

class CudaLossTest : public test::CudaTest {};

TEST_F(CudaLossTest, ForwardBackwardWithIgnoreAndSmoothing) {
  for (DType dt : kFloatTypes) {
    for (int64_t C : {7, 1000, 5000}) {
      const int64_t N = 33;
      Tensor logits = ops::to_dtype(ops::mul(test::randn64({N, C}, 1), 3.0), dt);
      Tensor targets = ops::to_dtype(test::uniform64({N}, 2, 0, static_cast<double>(C)), DType::i64);
      for (int64_t i = 0; i < N; i += 5) targets.data<int64_t>()[i] = -100;
      for (double eps : {0.0, 0.1}) {
        ops::CrossEntropyOptions opt;
        opt.label_smoothing = eps;
        ops::CrossEntropyResult c = ops::cross_entropy(logits, targets, opt);
        ops::CrossEntropyResult g = ops::cross_entropy(on_cuda(logits), on_cuda(targets), opt);
        EXPECT_EQ(g.count, c.count);
        GAU_EXPECT_CLOSE(g.loss, c.loss, tol_loss(dt), tol_loss(dt)) << dtype_name(dt) << " C=" << C;
        GAU_EXPECT_CLOSE(g.lse, c.lse, tol_loss(dt), tol_loss(dt)) << dtype_name(dt) << " C=" << C;
        Tensor dc = ops::cross_entropy_backward(logits, targets, c.lse, c.count, 1.5, opt);
        Tensor dg = ops::cross_entropy_backward(on_cuda(logits), on_cuda(targets), g.lse, g.count, 1.5, opt);
        GAU_EXPECT_CLOSE(dg, dc, parity_tol(dt), parity_tol(dt)) << dtype_name(dt) << " C=" << C;
      }
    }
  }
}

TEST_F(CudaLossTest, AllRowsIgnored) {
  Tensor logits = ops::to_dtype(test::randn64({4, 5}, 3), DType::f32);
  Tensor targets = ops::full({4}, -100, DType::i32);
  ops::CrossEntropyResult g = ops::cross_entropy(on_cuda(logits), on_cuda(targets));
  EXPECT_EQ(g.count, 0);
  EXPECT_EQ(g.loss.item(), 0.0);
  Tensor d = ops::cross_entropy_backward(on_cuda(logits), on_cuda(targets), g.lse, g.count, 1.0);
  GAU_EXPECT_CLOSE(d, ops::zeros({4, 5}), 0, 0);
}

TEST_F(CudaLossTest, OutOfRangeTargetIsAnError) {
  Tensor logits = on_cuda(ops::to_dtype(test::randn64({3, 5}, 4), DType::f32));
  Tensor targets = ops::full({3}, 1, DType::i64);
  targets.data<int64_t>()[2] = 9;
  try {
    ops::cross_entropy(logits, on_cuda(targets));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("target 9"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace gau
