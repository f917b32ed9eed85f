// Flat parameter and gradient buffers: flattening changes no value and no gradient (bitwise),
// the gradients land in the flat buffer, offsets are 64-byte aligned, buffers stay out, and
// re-flattening, to() and a graph recorded before flattening behave as documented.
#include "layers/flat_parameters.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;

// A two-layer MLP from gau ops: y = w2 silu(x w1ᵀ + b1) (weights [out, in]), plus a table buffer.
struct Mlp : Module {
  explicit Mlp(DType dtype = DType::f32) : Module("Mlp") {
    w1 = register_parameter("w1", test::randn({7, 5}, dtype, 11));
    b1 = register_parameter("b1", test::randn({7}, dtype, 12));
    w2 = register_parameter("w2", test::randn({3, 7}, dtype, 13));
    table = register_buffer("table", test::randn({4}, dtype, 14));
  }
  Tensor forward(const Tensor& x) override {
    ops::MatmulOptions nt;
    nt.trans_b = true;
    Tensor h = gau::silu(gau::add(gau::matmul(x, w1, nt), b1));
    return gau::matmul(h, w2, nt);
  }
  Tensor w1, b1, w2, table;
};

struct Two : Module {
  Two() : Module("Two") {
    a = register_module("a", std::make_shared<Mlp>());
    b = register_module("b", std::make_shared<Mlp>());
  }
  Tensor forward(const Tensor& x) override { return b->forward(gau::add(x, gau::narrow(a->forward(x), -1, 0, 1))); }
  std::shared_ptr<Mlp> a, b;
};

std::vector<uint8_t> bytes_of(const Tensor& t) {
  Tensor c = ops::contiguous(t.detach());
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  return std::vector<uint8_t>(p, p + c.nbytes());
}

// One forward and backward of loss = sum(model(x) * r): the output and every gradient, as bytes.
std::vector<std::vector<uint8_t>> step(Module& m, int backwards = 1) {
  std::vector<std::vector<uint8_t>> out;
  const Tensor x = test::randn({2, 4, 5}, m.parameters()[0].dtype(), 21);
  for (int i = 0; i < backwards; ++i) {
    Tensor y = m.forward(x);
    gau::sum(gau::mul(y, test::randn(y.shape(), y.dtype(), 22 + i))).backward();
    if (i == 0) out.push_back(bytes_of(y));
  }
  for (const Tensor& p : m.parameters()) out.push_back(bytes_of(p.grad()));
  return out;
}

bool inside(const Tensor& view, const Tensor& flat) {
  const auto* lo = static_cast<const uint8_t*>(flat.data_ptr());
  const auto* p = static_cast<const uint8_t*>(view.data_ptr());
  return p >= lo && p + view.nbytes() <= lo + flat.nbytes();
}

TEST(FlatParameters, SameValuesAndGradientsBitwiseAndGradientsLiveInTheBuffer) {
  for (int backwards : {1, 2}) {
    Two plain, flat_model;
    FlatParameters flat(flat_model);
    ASSERT_EQ(flat.groups().size(), 1u);
    const FlatGroup& g = flat.groups()[0];
    const void* grad_base = g.grads.data_ptr();
    EXPECT_EQ(step(plain, backwards), step(flat_model, backwards)) << backwards << " backward(s)";
    EXPECT_TRUE(flat.bound());
    EXPECT_EQ(g.grads.data_ptr(), grad_base);
    for (const FlatEntry& e : g.entries) {
      EXPECT_TRUE(inside(e.param, g.params)) << e.name;
      EXPECT_TRUE(inside(e.param.grad(), g.grads)) << e.name;
      EXPECT_EQ(e.param.grad().offset(), e.offset) << e.name;
    }
  }
}

TEST(FlatParameters, RegistrationOrderAlignmentAndZeroPadding) {
  Two model;
  FlatParameters flat(model);
  const FlatGroup& g = flat.groups()[0];
  std::vector<std::string> names;
  for (const FlatEntry& e : g.entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a.w1", "a.b1", "a.w2", "b.w1", "b.b1", "b.w2"}));
  int64_t end = 0;
  for (const FlatEntry& e : g.entries) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(e.param.data_ptr()) % kFlatAlignmentBytes, 0u) << e.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(e.param.grad().data_ptr()) % kFlatAlignmentBytes, 0u) << e.name;
    EXPECT_GE(e.offset, end) << e.name;
    end = e.offset + e.numel;
  }
  // The gaps hold zeros in both buffers.
  const std::vector<double> pv = test::values(g.params);
  size_t at = 0;
  for (const FlatEntry& e : g.entries) {
    for (; at < static_cast<size_t>(e.offset); ++at) EXPECT_EQ(pv[at], 0.0) << "gap before " << e.name;
    at = static_cast<size_t>(e.offset + e.numel);
  }
  EXPECT_EQ(g.params.numel() % 16, 0) << "the buffer ends aligned too";
}

TEST(FlatParameters, BuffersStayOutAndDoNotMoveTheParameterVersion) {
  Mlp model;
  FlatParameters flat(model);
  const Tensor& params = flat.groups()[0].params;
  EXPECT_NE(model.table.storage(), params.storage());
  const uint64_t version = params.version();
  ops::fill_(model.table, 3.0);
  EXPECT_EQ(params.version(), version);
  ops::fill_(model.w1, 1.0);
  EXPECT_GT(params.version(), version) << "a parameter update moves the flat storage's version";
}

TEST(FlatParameters, ZeroGradIsOneFillPerGroup) {
  Two model;
  FlatParameters flat(model);
  step(model);
  const Tensor& grads = flat.groups()[0].grads;
  const uint64_t version = grads.version();
  flat.zero_grad();
  EXPECT_EQ(grads.version(), version + 1);
  for (double v : test::values(grads)) ASSERT_EQ(v, 0.0);
  EXPECT_TRUE(flat.bound());
}

TEST(FlatParameters, OneGroupPerDtypeAndF32GradientsForBf16) {
  struct Mixed : Module {
    Mixed() : Module("Mixed") {
      register_parameter("a", test::randn({3}, DType::bf16, 1));
      register_parameter("b", test::randn({3}, DType::f32, 2));
      register_parameter("c", test::randn({5, 1}, DType::bf16, 3));
    }
  } model;
  FlatParameters flat(model, {.grad_dtype = DType::f32});
  ASSERT_EQ(flat.groups().size(), 2u);
  EXPECT_EQ(flat.groups()[0].dtype, DType::bf16);
  EXPECT_EQ(flat.groups()[0].grads.dtype(), DType::f32);
  EXPECT_EQ(flat.groups()[0].entries.size(), 2u);
  EXPECT_EQ(flat.groups()[0].entries[1].offset, 32) << "64 bytes of f32 gradients";
  EXPECT_EQ(flat.groups()[1].dtype, DType::f32);
  // A bf16 x bf16 matmul writes its f32 gradient into the buffer unrounded (the sink).
  const Tensor c = model.parameters()[2];
  const Tensor x = test::randn({4, 5}, DType::bf16, 5);
  gau::sum(gau::matmul(x, c)).backward();
  EXPECT_EQ(c.grad().dtype(), DType::f32);
  EXPECT_TRUE(inside(c.grad(), flat.groups()[0].grads));
  std::vector<double> want(5, 0.0);
  const std::vector<double> xv = test::values(x);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j) want[static_cast<size_t>(j)] += xv[static_cast<size_t>(i * 5 + j)];
  test::expect_close(c.grad(), want, 1e-6, "column sums of x");
  const std::vector<double> got = test::values(c.grad());
  const std::vector<double> rounded = test::values(ops::to_dtype(c.grad(), DType::bf16));
  bool any_unrounded = false;
  for (size_t i = 0; i < got.size(); ++i) any_unrounded = any_unrounded || got[i] != rounded[i];
  EXPECT_TRUE(any_unrounded) << "every gradient is bf16-exact: it was rounded on the way";
  EXPECT_NE(error_of([&] { FlatParameters bad(model, {.grad_dtype = DType::f64}); }).find("not f64"),
            std::string::npos);
}

TEST(FlatParameters, ReflatteningCarriesValuesAndGradients) {
  Two model;
  FlatParameters first(model);
  step(model);
  std::vector<std::vector<double>> values, grads;
  for (const Tensor& p : model.parameters()) values.push_back(test::values(p)), grads.push_back(test::values(p.grad()));
  FlatParameters second(model);
  EXPECT_FALSE(first.bound());
  EXPECT_TRUE(second.bound());
  const auto params = model.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(test::values(params[i]), values[i]);
    EXPECT_EQ(test::values(params[i].grad()), grads[i]);
  }
}

TEST(FlatParameters, ToUnflattensAndFlatteningAgainWorks) {
  Two model;
  FlatParameters flat(model);
  model.to(Device::cpu(), DType::f64);
  EXPECT_FALSE(flat.bound()) << "to() gives each parameter its own storage";
  FlatParameters again(model);
  EXPECT_TRUE(again.bound());
  EXPECT_EQ(again.groups()[0].dtype, DType::f64);
  Two reference;
  reference.to(Device::cpu(), DType::f64);
  EXPECT_EQ(step(reference), step(model));
}

TEST(FlatParameters, AGraphRecordedBeforeFlatteningFailsLoudly) {
  Mlp model;
  const Tensor x = test::randn({2, 5}, DType::f32, 1);
  Tensor loss = gau::sum(model.forward(x));
  FlatParameters flat(model);
  const std::string msg = error_of([&] { loss.backward(); });
  EXPECT_NE(msg.find("modified in place after it was saved"), std::string::npos) << msg;
}

TEST(FlatParameters, FlattenedStateDictRoundTrips) {
  Two source, target;
  FlatParameters flat_source(source), flat_target(target);
  for (const FlatGroup& g : flat_target.groups()) ops::fill_(g.params, 0.0);
  target.load_state_dict(source.state_dict());
  EXPECT_TRUE(flat_target.bound()) << "loading copies into the views; it does not rebind";
  const auto want = step(source);
  EXPECT_EQ(step(target), want);
  Two plain;
  plain.load_state_dict(target.state_dict());
  EXPECT_EQ(step(plain), want);
}

}  // namespace
}  // namespace gau::layers
