// The FLASH block: its forward against the block written out in f64 around the naive mixed-chunk
// reference (tests/layers/attention/flash_reference.h); gradcheck of every parameter and of x;
// token-by-token decoding against the full causal pass; checkpointing; bad input.
#include "layers/flash_block.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/registry.h"
#include "tests/layers/attention/flash_reference.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;
using ::testing::HasSubstr;

FlashBlockOptions small(bool causal, PositionType position) {
  FlashBlockOptions o;
  o.dim = 6;
  o.e = 10;
  o.s = 4;
  o.chunk = 4;
  o.norm = NormKind::rms_norm;
  o.position = position;
  o.max_length = 16;
  o.causal = causal;
  return o;
}

// y = x + (u ⊙ flash_ref(qq, kq, ql, kl, v)) W_outᵀ + b_out, the heads computed here from the
// block's parameters (no positions).
std::vector<double> naive_block(FlashBlock& m, const Tensor& x) {
  NoGradGuard no_grad;
  const FlashBlockOptions& o = m.options();
  const int64_t b = x.size(0), n = x.size(1), e = o.e, s = o.s;
  Tensor h = test::child(m, "norm")->forward(x);
  Tensor proj =
      gau::add(gau::matmul(h, test::parameter(m, "w_in.weight"), {.trans_b = true}), test::parameter(m, "w_in.bias"));
  std::vector<Tensor> uvz = gau::split(gau::silu(proj), {e, e, s}, -1);
  Tensor gamma = test::parameter(m, "heads.gamma"), beta = test::parameter(m, "heads.beta");
  auto head = [&](int64_t i) {
    return test::values(gau::add(gau::mul(uvz[2], gau::select(gamma, 0, i)), gau::select(beta, 0, i)));
  };
  attention::flash_ref::FlashProblem p{.b = b, .n = n, .s = s, .e = e, .c = o.chunk, .causal = o.causal};
  attention::flash_ref::FlashData d{head(0), head(1), head(2), head(3), test::values(uvz[1])};
  Tensor a = ops::from_vector<double>(attention::flash_ref::flash_reference(p, d), {b, n, e});
  Tensor y = gau::add(gau::matmul(gau::mul(uvz[0], a), test::parameter(m, "w_out.weight"), {.trans_b = true}),
                      test::parameter(m, "w_out.bias"));
  return test::values(gau::add(x, y));
}

TEST(FlashBlock, MatchesTheBlockAroundTheNaiveReference) {
  for (bool causal : {false, true}) {
    for (int64_t n : {3, 8, 10}) {  // shorter than a chunk, whole chunks, a partial last chunk
      FlashBlock m(small(causal, PositionType::none));
      m.to(Device::cpu(), DType::f64);
      test::set_parameter(m, "heads.gamma", test::uniform64({4, 4}, 1, 0.5, 1.5));
      test::set_parameter(m, "heads.beta", test::uniform64({4, 4}, 2, -0.5, 0.5));
      Tensor x = test::randn64({2, n, 6}, 3);
      test::expect_close(m.forward(x), naive_block(m, x), 1e-10,
                         std::string(causal ? "causal" : "bidirectional") + " n " + std::to_string(n));
    }
  }
}

TEST(FlashBlock, Gradcheck) {
  for (PositionType position : {PositionType::none, PositionType::rope, PositionType::relative}) {
    FlashBlock m(small(true, position));
    m.to(Device::cpu(), DType::f64);
    test::set_parameter(m, "heads.gamma", test::uniform64({4, 4}, 4, 0.5, 1.5));
    if (position == PositionType::relative) test::set_parameter(m, "bias", test::uniform64({7}, 5, -0.5, 0.5));
    Tensor x = test::randn64({2, 7, 6}, 6), r = test::randn64({2, 7, 6}, 7);
    EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); }))
        << "position " << static_cast<int>(position);
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return m.forward(in[0]); }, {x}));
  }
}

TEST(FlashBlock, DecodingEqualsTheFullCausalPass) {
  for (PositionType position : {PositionType::rope, PositionType::relative, PositionType::none}) {
    FlashBlock m(small(true, position));
    m.eval();
    if (position == PositionType::relative)
      test::set_parameter(m, "bias", ops::to_dtype(test::uniform64({7}, 8, -0.5, 0.5), DType::f32));
    Tensor x = test::randn({2, 11, 6}, DType::f32, 9);
    Tensor full;
    {
      NoGradGuard no_grad;
      full = m.forward(x);
    }
    for (int64_t step : {1, 3}) {
      test::expect_close(
          test::decode_in_steps(m, x, step, 16), test::values(full), 1e-5,
          "position " + std::to_string(static_cast<int>(position)) + ", " + std::to_string(step) + " per step");
    }
  }
}

// No input is longer than max_length, so a chunk beyond it is the chunk of max_length: the same
// scores / c, the same relative-bias table, and decoding agrees with it.
TEST(FlashBlock, AChunkLongerThanMaxLengthIsClampedToIt) {
  FlashBlockOptions o = small(true, PositionType::none);
  o.chunk = 64;
  FlashBlock clamped(o);
  EXPECT_EQ(clamped.options().chunk, o.max_length);
  o.chunk = o.max_length;
  FlashBlock exact(o);
  for (FlashBlock* m : {&clamped, &exact}) m->to(Device::cpu(), DType::f64);
  test::set_parameter(exact, "heads.gamma", test::uniform64({4, 4}, 1, 0.5, 1.5));
  clamped.load_state_dict(exact.state_dict());
  Tensor x = test::randn64({2, 11, 6}, 3);
  const std::vector<double> reference = naive_block(exact, x);
  test::expect_close(clamped.forward(x), reference, 1e-10, "forward");
  test::expect_close(test::decode_in_steps(clamped, x, 1, 16), reference, 1e-10, "decoding");

  o = small(true, PositionType::relative);
  o.chunk = 64;
  FlashBlock relative(o);
  EXPECT_EQ(test::parameter(relative, "bias").numel(), 2 * 16 - 1);
}

TEST(FlashBlock, CheckpointingGivesTheSameGradients) {
  FlashBlockOptions o = small(true, PositionType::rope);
  FlashBlock plain(o);
  o.checkpoint = true;
  FlashBlock ckpt(o);
  ckpt.load_state_dict(plain.state_dict());
  Tensor x = test::randn({2, 9, 6}, DType::f32, 10);
  auto grads = [&](FlashBlock& m) {
    Tensor xi = x.detach().requires_grad_();
    Tensor y = m.forward(xi);
    gau::sum(gau::mul(y, y)).backward();
    return xi.grad();
  };
  Tensor d_plain = grads(plain), d_ckpt = grads(ckpt);
  test::expect_close(d_ckpt, test::values(d_plain), 1e-6, "d_x");
  for (const auto& [name, p] : ckpt.named_parameters())
    test::expect_close(p.grad(), test::values(test::parameter(plain, name).grad()), 1e-6, "d " + name);
}

TEST(FlashBlock, BadInputIsNamed) {
  FlashBlock m(small(true, PositionType::rope));
  EXPECT_THAT(error_of([&] { m.forward(ops::randn({2, 5, 7})); }), HasSubstr("expected x [b, n, 6]"));
  EXPECT_THAT(error_of([&] { build(YAML::Load("{type: flash, dim: 8, chunk: 0}"), "model.blocks[2]"); }),
              HasSubstr("model.blocks[2].chunk"));
  EXPECT_THAT(error_of([&] { build(YAML::Load("{type: flash, dim: 8, s: 5, max_length: 8}"), "model.blocks[0]"); }),
              HasSubstr("s must be even"));
  EXPECT_THAT(error_of([&] { build(YAML::Load("{type: flash, dim: 8, linear_norm: mean}"), "model.blocks[0]"); }),
              HasSubstr("mean"));
  FlashBlock bidirectional(small(false, PositionType::none));
  EXPECT_THAT(error_of([&] { bidirectional.start_decoding(1, 4); }), HasSubstr("causal"));
}

}  // namespace
}  // namespace gau::layers
