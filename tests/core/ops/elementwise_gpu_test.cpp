// CUDA elementwise ops against the CPU backend on random inputs, per dtype.
// Tolerances (atol = rtol): f64 1e-12, f32 1e-5 (CUDA and glibc transcendentals differ by ulps),
// f16 2e-3, bf16 2e-2 (one unit in the last place after rounding the f32 result).
#include <gtest/gtest.h>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

const Device kCuda = Device::cuda(0);
const DType kFloats[] = {DType::f32, DType::f64, DType::bf16, DType::f16};

double tol(DType dt) {
  switch (dt) {
    case DType::f64: return 1e-12;
    case DType::f32: return 1e-5;
    case DType::f16: return 2e-3;
    case DType::bf16: return 2e-2;
    default: return 0.0;
  }
}

Tensor rnd(const Shape& shape, DType dt, uint64_t seed, double min_abs = 0.0) {
  return ops::to_dtype(test::randn64(shape, seed, min_abs), dt);
}
Tensor gpu(const Tensor& x) { return ops::to_device(x, kCuda); }

class CudaElementwiseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(CudaElementwiseTest, UnaryAndBackward) {
  const ops::Unary all[] = {ops::Unary::neg,  ops::Unary::exp,     ops::Unary::log,  ops::Unary::sqrt,
                            ops::Unary::rsqrt, ops::Unary::abs,    ops::Unary::tanh, ops::Unary::sigmoid,
                            ops::Unary::relu, ops::Unary::relu2,   ops::Unary::silu, ops::Unary::gelu,
                            ops::Unary::erf,  ops::Unary::laplace};
  for (DType dt : kFloats) {
    for (ops::Unary op : all) {
      const bool positive = op == ops::Unary::log || op == ops::Unary::sqrt || op == ops::Unary::rsqrt;
      Tensor x = rnd({37, 65}, dt, 1, 0.05);
      if (positive) x = ops::abs(x);
      Tensor dy = rnd({37, 65}, dt, 2);
      GAU_EXPECT_CLOSE(ops::unary(op, gpu(x)), ops::unary(op, x), tol(dt), tol(dt))
          << ops::unary_name(op) << " " << dtype_name(dt);
      GAU_EXPECT_CLOSE(ops::unary_backward(op, gpu(x), gpu(dy)), ops::unary_backward(op, x, dy), tol(dt), tol(dt))
          << ops::unary_name(op) << "_backward " << dtype_name(dt);
    }
  }
  // Integers: neg and abs.
  Tensor i = ops::to_dtype(test::uniform64({100}, 3, -1000, 1000), DType::i64);
  GAU_EXPECT_CLOSE(ops::neg(gpu(i)), ops::neg(i), 0, 0);
  GAU_EXPECT_CLOSE(ops::abs(gpu(i)), ops::abs(i), 0, 0);
  EXPECT_THROW(ops::exp(gpu(i)), Error);
}

TEST_F(CudaElementwiseTest, UnaryOnStridedInput) {
  Tensor x = rnd({8, 12, 10}, DType::f32, 4);
  Tensor v = ops::slice(ops::permute(x, {2, 0, 1}), 2, 1, 12, 3);
  GAU_EXPECT_CLOSE(ops::tanh(ops::slice(ops::permute(gpu(x), {2, 0, 1}), 2, 1, 12, 3)), ops::tanh(v), 1e-5, 1e-5);
}

TEST_F(CudaElementwiseTest, BinaryWithBroadcasting) {
  const ops::Binary all[] = {ops::Binary::add, ops::Binary::sub,     ops::Binary::mul,    ops::Binary::div,
                             ops::Binary::pow, ops::Binary::maximum, ops::Binary::minimum};
  for (DType dt : kFloats) {
    for (ops::Binary op : all) {
      Tensor a = rnd({4, 1, 6, 5}, dt, 5, 0.1);
      Tensor b = rnd({3, 1, 5}, dt, 6, 0.1);
      if (op == ops::Binary::pow) a = ops::abs(a);
      GAU_EXPECT_CLOSE(ops::binary(op, gpu(a), gpu(b)), ops::binary(op, a, b), tol(dt), tol(dt))
          << ops::binary_name(op) << " " << dtype_name(dt);
      GAU_EXPECT_CLOSE(ops::binary_scalar(op, gpu(a), 1.75), ops::binary_scalar(op, a, 1.75), tol(dt), tol(dt))
          << ops::binary_name(op) << " scalar " << dtype_name(dt);
      Tensor ag = ops::clone(gpu(a));
      Tensor ac = ops::clone(a);
      ops::binary_(op, ag, gpu(ops::narrow(b, 0, 0, 1)));
      ops::binary_(op, ac, ops::narrow(b, 0, 0, 1));
      GAU_EXPECT_CLOSE(ag, ac, tol(dt), tol(dt)) << ops::binary_name(op) << "_ " << dtype_name(dt);
    }
    Tensor a = rnd({7, 9}, dt, 7), b = rnd({9}, dt, 8);
    Tensor ag = ops::clone(gpu(a));
    ops::axpy_(ag, gpu(b), -0.5);
    ops::axpy_(a, b, -0.5);
    GAU_EXPECT_CLOSE(ag, a, tol(dt), tol(dt)) << "axpy_ " << dtype_name(dt);
  }
  // Integer arithmetic is exact.
  Tensor ia = ops::to_dtype(test::uniform64({50}, 9, -100, 100), DType::i32);
  Tensor ib = ops::to_dtype(test::uniform64({50}, 10, -100, 100), DType::i32);
  GAU_EXPECT_CLOSE(ops::mul(gpu(ia), gpu(ib)), ops::mul(ia, ib), 0, 0);
  GAU_EXPECT_CLOSE(ops::maximum(gpu(ia), gpu(ib)), ops::maximum(ia, ib), 0, 0);
}

TEST_F(CudaElementwiseTest, CompareWhereMaskedFill) {
  const ops::Compare all[] = {ops::Compare::eq, ops::Compare::ne, ops::Compare::lt,
                              ops::Compare::le, ops::Compare::gt, ops::Compare::ge};
  for (DType dt : kFloats) {
    Tensor a = ops::to_dtype(ops::to_dtype(test::uniform64({6, 8}, 11, -3, 3), DType::i64), dt);
    Tensor b = ops::to_dtype(ops::to_dtype(test::uniform64({8}, 12, -3, 3), DType::i64), dt);
    for (ops::Compare op : all) {
      GAU_EXPECT_CLOSE(ops::compare(op, gpu(a), gpu(b)), ops::compare(op, a, b), 0, 0);
      GAU_EXPECT_CLOSE(ops::compare_scalar(op, gpu(a), 1.0), ops::compare_scalar(op, a, 1.0), 0, 0);
    }
    Tensor cond = ops::compare_scalar(ops::Compare::gt, rnd({6, 1}, DType::f32, 13), 0.0);
    Tensor x = rnd({6, 8}, dt, 14), y = rnd({8}, dt, 15);
    GAU_EXPECT_CLOSE(ops::where(gpu(cond), gpu(x), gpu(y)), ops::where(cond, x, y), 0, 0);
    Tensor mask = ops::compare_scalar(ops::Compare::lt, rnd({8}, DType::f32, 16), 0.0);
    GAU_EXPECT_CLOSE(ops::masked_fill(gpu(x), gpu(mask), -1e4), ops::masked_fill(x, mask, -1e4), 0, 0);
  }
}

TEST_F(CudaElementwiseTest, FusedBiasActivationAndScaleOffset) {
  const ops::Activation acts[] = {ops::Activation::none, ops::Activation::relu, ops::Activation::relu2,
                                  ops::Activation::silu, ops::Activation::gelu};
  for (DType dt : kFloats) {
    Tensor x = rnd({3, 5, 16}, dt, 17), bias = rnd({16}, dt, 18), dy = rnd({3, 5, 16}, dt, 19);
    for (ops::Activation act : acts) {
      GAU_EXPECT_CLOSE(ops::bias_act(gpu(x), gpu(bias), act), ops::bias_act(x, bias, act), tol(dt), tol(dt));
      GAU_EXPECT_CLOSE(ops::bias_act_backward(gpu(x), gpu(bias), act, gpu(dy)),
                       ops::bias_act_backward(x, bias, act, dy), tol(dt), tol(dt));
    }
    Tensor g = rnd({16}, dt, 20), b = rnd({16}, dt, 21);
    GAU_EXPECT_CLOSE(ops::scale_offset(gpu(x), gpu(g), gpu(b)), ops::scale_offset(x, g, b), tol(dt), tol(dt));
  }
}

TEST_F(CudaElementwiseTest, LargeContiguousFastPath) {
  Tensor a = rnd({1 << 20}, DType::f32, 22), b = rnd({1 << 20}, DType::f32, 23);
  GAU_EXPECT_CLOSE(ops::add(gpu(a), gpu(b)), ops::add(a, b), 0, 0);
  GAU_EXPECT_CLOSE(ops::relu(gpu(a)), ops::relu(a), 0, 0);
}

TEST_F(CudaElementwiseTest, DeviceMismatchNamesOpAndBothTensors) {
  Tensor a = ops::zeros({2, 3});
  Tensor b = gpu(ops::zeros({2, 3}));
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
