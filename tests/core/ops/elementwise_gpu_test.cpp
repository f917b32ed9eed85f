// CUDA elementwise ops against the CPU backend on random inputs, per dtype.
// Tolerances (atol = rtol): f64 1e-12, f32 1e-5 (CUDA and glibc transcendentals differ by ulps),
// f16 2e-3, bf16 2e-2 (one unit in the last place after rounding the f32 result).
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::kFloatTypes;
using test::on_cuda;
using test::parity_tol;

class CudaElementwiseTest : public test::CudaTest {};

TEST_F(CudaElementwiseTest, UnaryAndBackward) {
  const ops::Unary all[] = {ops::Unary::neg,  ops::Unary::exp,     ops::Unary::log,  ops::Unary::sqrt,
                            ops::Unary::rsqrt, ops::Unary::abs,    ops::Unary::tanh, ops::Unary::sigmoid,
                            ops::Unary::relu, ops::Unary::relu2,   ops::Unary::silu, ops::Unary::gelu,
                            ops::Unary::erf,  ops::Unary::laplace};
  for (DType dt : kFloatTypes) {
    for (ops::Unary op : all) {
      const bool positive = op == ops::Unary::log || op == ops::Unary::sqrt || op == ops::Unary::rsqrt;
      Tensor x = test::randn({37, 65}, dt, 1, 0.05);
      if (positive) x = ops::abs(x);
      Tensor dy = test::randn({37, 65}, dt, 2);
      GAU_EXPECT_CLOSE(ops::unary(op, on_cuda(x)), ops::unary(op, x), parity_tol(dt), parity_tol(dt))
          << ops::unary_name(op) << " " << dtype_name(dt);
      GAU_EXPECT_CLOSE(ops::unary_backward(op, on_cuda(x), on_cuda(dy)), ops::unary_backward(op, x, dy), parity_tol(dt),
                       parity_tol(dt))
          << ops::unary_name(op) << "_backward " << dtype_name(dt);
    }
  }
  // Integers: neg and abs.
  Tensor i = ops::to_dtype(test::uniform64({100}, 3, -1000, 1000), DType::i64);
  GAU_EXPECT_CLOSE(ops::neg(on_cuda(i)), ops::neg(i), 0, 0);
  GAU_EXPECT_CLOSE(ops::abs(on_cuda(i)), ops::abs(i), 0, 0);
  EXPECT_THROW(ops::exp(on_cuda(i)), Error);
}

TEST_F(CudaElementwiseTest, UnaryOnStridedInput) {
  Tensor x = test::randn({8, 12, 10}, DType::f32, 4);
  Tensor v = ops::slice(ops::permute(x, {2, 0, 1}), 2, 1, 12, 3);
  GAU_EXPECT_CLOSE(ops::tanh(ops::slice(ops::permute(on_cuda(x), {2, 0, 1}), 2, 1, 12, 3)), ops::tanh(v), 1e-5, 1e-5);
}

TEST_F(CudaElementwiseTest, BinaryWithBroadcasting) {
  const ops::Binary all[] = {ops::Binary::add, ops::Binary::sub,     ops::Binary::mul,    ops::Binary::div,
                             ops::Binary::pow, ops::Binary::maximum, ops::Binary::minimum};
  for (DType dt : kFloatTypes) {
    for (ops::Binary op : all) {
      Tensor a = test::randn({4, 1, 6, 5}, dt, 5, 0.1);
      Tensor b = test::randn({3, 1, 5}, dt, 6, 0.1);
      if (op == ops::Binary::pow) a = ops::abs(a);
      GAU_EXPECT_CLOSE(ops::binary(op, on_cuda(a), on_cuda(b)), ops::binary(op, a, b), parity_tol(dt), parity_tol(dt))
          << ops::binary_name(op) << " " << dtype_name(dt);
      GAU_EXPECT_CLOSE(ops::binary_scalar(op, on_cuda(a), 1.75), ops::binary_scalar(op, a, 1.75), parity_tol(dt),
                       parity_tol(dt))
          << ops::binary_name(op) << " scalar " << dtype_name(dt);
      Tensor ag = ops::clone(on_cuda(a));
      Tensor ac = ops::clone(a);
      ops::binary_(op, ag, on_cuda(ops::narrow(b, 0, 0, 1)));
      ops::binary_(op, ac, ops::narrow(b, 0, 0, 1));
      GAU_EXPECT_CLOSE(ag, ac, parity_tol(dt), parity_tol(dt)) << ops::binary_name(op) << "_ " << dtype_name(dt);
    }
    Tensor a = test::randn({7, 9}, dt, 7), b = test::randn({9}, dt, 8);
    Tensor ag = ops::clone(on_cuda(a));
    ops::axpy_(ag, on_cuda(b), -0.5);
    ops::axpy_(a, b, -0.5);
    GAU_EXPECT_CLOSE(ag, a, parity_tol(dt), parity_tol(dt)) << "axpy_ " << dtype_name(dt);
  }
  // Integer arithmetic is exact.
  Tensor ia = ops::to_dtype(test::uniform64({50}, 9, -100, 100), DType::i32);
  Tensor ib = ops::to_dtype(test::uniform64({50}, 10, -100, 100), DType::i32);
  GAU_EXPECT_CLOSE(ops::mul(on_cuda(ia), on_cuda(ib)), ops::mul(ia, ib), 0, 0);
  GAU_EXPECT_CLOSE(ops::maximum(on_cuda(ia), on_cuda(ib)), ops::maximum(ia, ib), 0, 0);
}

TEST_F(CudaElementwiseTest, CompareWhereMaskedFill) {
  const ops::Compare all[] = {ops::Compare::eq, ops::Compare::ne, ops::Compare::lt,
                              ops::Compare::le, ops::Compare::gt, ops::Compare::ge};
  for (DType dt : kFloatTypes) {
    Tensor a = ops::to_dtype(ops::to_dtype(test::uniform64({6, 8}, 11, -3, 3), DType::i64), dt);
    Tensor b = ops::to_dtype(ops::to_dtype(test::uniform64({8}, 12, -3, 3), DType::i64), dt);
    for (ops::Compare op : all) {
      GAU_EXPECT_CLOSE(ops::compare(op, on_cuda(a), on_cuda(b)), ops::compare(op, a, b), 0, 0);
      GAU_EXPECT_CLOSE(ops::compare_scalar(op, on_cuda(a), 1.0), ops::compare_scalar(op, a, 1.0), 0, 0);
    }
    Tensor cond = ops::compare_scalar(ops::Compare::gt, test::randn({6, 1}, DType::f32, 13), 0.0);
    Tensor x = test::randn({6, 8}, dt, 14), y = test::randn({8}, dt, 15);
    GAU_EXPECT_CLOSE(ops::where(on_cuda(cond), on_cuda(x), on_cuda(y)), ops::where(cond, x, y), 0, 0);
    Tensor mask = ops::compare_scalar(ops::Compare::lt, test::randn({8}, DType::f32, 16), 0.0);
    GAU_EXPECT_CLOSE(ops::masked_fill(on_cuda(x), on_cuda(mask), -1e4), ops::masked_fill(x, mask, -1e4), 0, 0);
  }
}

TEST_F(CudaElementwiseTest, FusedBiasActivationAndScaleOffset) {
  const ops::Activation acts[] = {ops::Activation::none, ops::Activation::relu, ops::Activation::relu2,
                                  ops::Activation::silu, ops::Activation::gelu};
  for (DType dt : kFloatTypes) {
    Tensor x = test::randn({3, 5, 16}, dt, 17), bias = test::randn({16}, dt, 18), dy = test::randn({3, 5, 16}, dt, 19);
    for (ops::Activation act : acts) {
      GAU_EXPECT_CLOSE(ops::bias_act(on_cuda(x), on_cuda(bias), act), ops::bias_act(x, bias, act), parity_tol(dt),
                       parity_tol(dt));
      GAU_EXPECT_CLOSE(ops::bias_act_backward(on_cuda(x), on_cuda(bias), act, on_cuda(dy)),
                       ops::bias_act_backward(x, bias, act, dy), parity_tol(dt), parity_tol(dt));
    }
    Tensor g = test::randn({16}, dt, 20), b = test::randn({16}, dt, 21);
    GAU_EXPECT_CLOSE(ops::scale_offset(on_cuda(x), on_cuda(g), on_cuda(b)), ops::scale_offset(x, g, b), parity_tol(dt),
                     parity_tol(dt));
  }
}

TEST_F(CudaElementwiseTest, LargeContiguousFastPath) {
  Tensor a = test::randn({1 << 20}, DType::f32, 22), b = test::randn({1 << 20}, DType::f32, 23);
  GAU_EXPECT_CLOSE(ops::add(on_cuda(a), on_cuda(b)), ops::add(a, b), 0, 0);
  GAU_EXPECT_CLOSE(ops::relu(on_cuda(a)), ops::relu(a), 0, 0);
}

TEST_F(CudaElementwiseTest, DeviceMismatchNamesOpAndBothTensors) {
  Tensor a = ops::zeros({2, 3});
  Tensor b = on_cuda(ops::zeros({2, 3}));
  try {
    ops::add(a, b);
    FAIL() << "expected a device mismatch error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("add"), std::string::npos) << msg;
    EXPECT_NE(msg.find("f32[2, 3] on cpu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("f32[2, 3] on cuda:0"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace gau
