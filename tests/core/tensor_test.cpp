// Tensor core: views, copies, casts, factories, RNG, printing and the error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "core/tensor.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::values;

Tensor iota(const Shape& shape) { return ops::to_dtype(ops::reshape(ops::arange(0, shape_numel(shape)), shape), DType::f32); }

}  // namespace

TEST(Tensor, EmptyHasContiguousStrides) {
  Tensor t = Tensor::empty({2, 3, 4});
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(describe(t), "f32[2, 3, 4] on cpu");
}

TEST(Tensor, TransposeIsAViewAndContiguousCopies) {
  Tensor x = iota({2, 3});
  Tensor t = ops::transpose(x, 0, 1);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.storage(), x.storage());
  EXPECT_EQ(values(t), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor c = ops::contiguous(t);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.storage(), x.storage());
}

TEST(Tensor, ReshapeViewsWhenPossibleAndCopiesOtherwise) {
  Tensor x = iota({2, 3, 4});
  Tensor r = ops::reshape(x, {6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(r.storage(), x.storage());
  Tensor t = ops::transpose(x, 1, 2);  // [2, 4, 3], not viewable as [8, 3]? it is: dims 0,1 merge
  Tensor merged = ops::reshape(t, {8, 3});
  EXPECT_EQ(values(merged), values(ops::reshape(ops::contiguous(t), {8, 3})));
  Tensor flat = ops::reshape(t, {24});  // needs a copy
  EXPECT_NE(flat.storage(), x.storage());
  EXPECT_EQ(values(flat), values(ops::contiguous(t)));
  EXPECT_NE(error_of([&] { ops::view(t, {24}); }).find("without a copy"), std::string::npos);
  Tensor scalar = ops::reshape(iota({1}), {});
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(ops::view(scalar, {1, 1}).storage(), scalar.storage());  // rank 0 views as any size-1 shape
}

TEST(Tensor, NarrowSliceSelectExpand) {
  Tensor x = iota({4, 5});
  EXPECT_EQ(values(ops::narrow(x, 1, 1, 2)), (std::vector<double>{1, 2, 6, 7, 11, 12, 16, 17}));
  EXPECT_EQ(values(ops::slice(x, 0, 0, 4, 2)), (std::vector<double>{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}));
  EXPECT_EQ(values(ops::slice(x, 1, -2, 5)), (std::vector<double>{3, 4, 8, 9, 13, 14, 18, 19}));
  EXPECT_EQ(values(ops::select(x, 0, -1)), (std::vector<double>{15, 16, 17, 18, 19}));
  Tensor row = ops::reshape(iota({3}), {1, 3});
  Tensor e = ops::expand(row, {2, 2, 3});
  EXPECT_EQ(e.strides(), (Shape{0, 0, 1}));
  EXPECT_EQ(values(e), (std::vector<double>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(ops::unsqueeze(x, 1).shape(), (Shape{4, 1, 5}));
  EXPECT_EQ(ops::squeeze(ops::unsqueeze(x, -1), -1).shape(), (Shape{4, 5}));
  EXPECT_EQ(ops::flatten(iota({2, 3, 4}), 1).shape(), (Shape{2, 12}));
}

TEST(Tensor, ChunkSplitCatStack) {
  Tensor x = iota({7, 2});
  auto parts = ops::chunk(x, 3, 0);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(parts[2].shape(), (Shape{1, 2}));
  EXPECT_EQ(values(ops::cat(parts, 0)), values(x));
  auto cols = ops::split(x, {1, 1}, 1);
  EXPECT_EQ(values(ops::cat(cols, 1)), values(x));
  Tensor s = ops::stack({iota({2}), iota({2})}, 1);
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(s), (std::vector<double>{0, 0, 1, 1}));
}

TEST(Tensor, ViewErrorsNameOpAndShapes) {
  Tensor x = iota({2, 3});
  std::string msg = error_of([&] { ops::reshape(x, {4, 2}); });
  EXPECT_NE(msg.find("reshape"), std::string::npos);
  EXPECT_NE(msg.find("[4, 2]"), std::string::npos);
  EXPECT_NE(msg.find("f32[2, 3]"), std::string::npos);
  msg = error_of([&] { ops::expand(x, {2, 4}); });
  EXPECT_NE(msg.find("expand"), std::string::npos);
  EXPECT_NE(msg.find("[2, 4]"), std::string::npos);
  msg = error_of([&] { ops::cat({x, iota({3, 3})}, 1); });
  EXPECT_NE(msg.find("[3, 3]"), std::string::npos) << msg;
  msg = error_of([&] { ops::narrow(x, 1, 2, 2); });
  EXPECT_NE(msg.find("out of bounds"), std::string::npos);
}

TEST(Tensor, CastsRoundToNearestEven) {
  // bf16 keeps 8 mantissa bits: 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7 -> even (1).
  EXPECT_EQ(float(bfloat16(1.0f + std::ldexp(1.0f, -8))), 1.0f);
  EXPECT_EQ(float(bfloat16(1.0f + 3 * std::ldexp(1.0f, -8))), 1.0f + std::ldexp(1.0f, -6));
  EXPECT_EQ(float(bfloat16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20))), 1.0f + std::ldexp(1.0f, -7));
  // f16 keeps 10 bits: 1 + 2^-11 is halfway -> 1; 1 + 3*2^-11 -> 1 + 2^-9.
  EXPECT_EQ(float(float16(1.0f + std::ldexp(1.0f, -11))), 1.0f);
  EXPECT_EQ(float(float16(1.0f + 3 * std::ldexp(1.0f, -11))), 1.0f + std::ldexp(1.0f, -9));
  EXPECT_EQ(float(float16(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(float(float16(65520.0f))));
  EXPECT_EQ(float(float16(std::ldexp(1.0f, -24))), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(float(float16(std::ldexp(1.0f, -25))), 0.0f);                   // tie -> even (0)
  EXPECT_EQ(float(float16(3 * std::ldexp(1.0f, -25))), std::ldexp(1.0f, -23));
  EXPECT_TRUE(std::isnan(float(bfloat16(NAN))));
  EXPECT_TRUE(std::isnan(float(float16(NAN))));
  // Tensor casts use the same conversions.
  Tensor x = ops::from_vector<float>({1.0f + std::ldexp(1.0f, -8), -2.5f, 65520.0f}, {3});
  EXPECT_EQ(values(ops::to_dtype(x, DType::bf16))[0], 1.0);
  EXPECT_TRUE(std::isinf(values(ops::to_dtype(x, DType::f16))[2]));
  EXPECT_EQ(values(ops::to_dtype(ops::to_dtype(x, DType::i32), DType::f32))[1], -2.0);
}

TEST(Tensor, FactoriesAndFill) {
  EXPECT_EQ(values(ops::zeros({3})), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(values(ops::full({2}, 2.5, DType::bf16)), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(values(ops::arange(1, 2, 0.25, DType::f64)), (std::vector<double>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(ops::arange(0, 10, 3).dtype(), DType::i64);
  EXPECT_EQ(values(ops::from_vector<bool>({true, false, true}, {3})), (std::vector<double>{1, 0, 1}));
  Tensor t = ops::zeros({2, 3});
  uint64_t v = t.version();
  ops::fill_(ops::narrow(t, 1, 1, 1), 7);
  EXPECT_EQ(values(t), (std::vector<double>{0, 7, 0, 0, 7, 0}));
  EXPECT_GT(t.version(), v);  // in-place ops bump the shared storage version
}

TEST(Tensor, RandomIsReproducibleAndWellDistributed) {
  Generator g1(42), g2(42);
  Tensor a = ops::randn({10000}, DType::f32, Device::cpu(), 0, 1, &g1);
  Tensor b = ops::randn({10000}, DType::f32, Device::cpu(), 0, 1, &g2);
  EXPECT_EQ(values(a), values(b));
  Tensor c = ops::randn({10000}, DType::f32, Device::cpu(), 0, 1, &g1);  // advanced offset: new numbers
  EXPECT_NE(values(a), values(c));
  double mean = 0, sq = 0;
  for (double v : values(a)) mean += v, sq += v * v;
  mean /= 10000, sq /= 10000;
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(sq, 1.0, 0.05);
  Tensor u = ops::rand({10000}, DType::f64, Device::cpu(), -1, 3, &g1);
  for (double v : values(u)) ASSERT_TRUE(v >= -1 && v < 3);
  // Element i is draw i of the stream: a prefix of a longer draw from the same state matches.
  Generator g3(7), g4(7);
  Tensor shortd = ops::rand({5}, DType::f32, Device::cpu(), 0, 1, &g3);
  Tensor longd = ops::rand({9}, DType::f32, Device::cpu(), 0, 1, &g4);
  EXPECT_EQ(values(shortd), values(ops::narrow(longd, 0, 0, 5)));
}

TEST(Tensor, PhiloxMatchesKnownAnswer) {
  // Random123 known-answer test for philox4x32-10: counter all zero, key all zero.
  Philox4 r = philox4x32_10(0, 0, 0);
  EXPECT_EQ(r.v[0], 0x6627e8d5u);
  EXPECT_EQ(r.v[1], 0xe169c58du);
  EXPECT_EQ(r.v[2], 0xbc57ac4cu);
  EXPECT_EQ(r.v[3], 0x9b00dbd8u);
}

TEST(Tensor, ItemAndPrinting) {
  EXPECT_EQ(ops::full({1}, 3.0).item(), 3.0);
  EXPECT_NE(std::string(ops::zeros({2}).str()).find("[0, 0]"), std::string::npos);
  std::string big = ops::zeros({100}).str();
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_NE(error_of([] { ops::zeros({2}).item(); }).find("one element"), std::string::npos);
}

TEST(Tensor, DeviceParsing) {
  EXPECT_EQ(Device::parse("cuda:1"), Device::cuda(1));
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_NE(error_of([] { Device::parse("tpu"); }).find("tpu"), std::string::npos);
  EXPECT_EQ(dtype_from_name("bfloat16"), DType::bf16);
}
