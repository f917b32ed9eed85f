// GAU: seed 002's reference GAU (PyTorch fixture, tests/reference/gau_seed002.py) matched in output
// and every gradient; a naive f64 GAU with an explicit n x n attention for the other options;
// gradcheck; token-by-token decoding against the full causal pass; checkpointing; bad input.
#include "layers/gau.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/allocator.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/registry.h"
#include "tests/support/checks.h"
#include "tests/support/fixture.h"
#include "tests/support/module_check.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;
using ::testing::HasSubstr;

// The parameter called `name` (as named_parameters lists it).
Tensor rows(const Tensor& t, int64_t begin, int64_t count) { return ops::contiguous(ops::narrow(t, 0, begin, count)); }

TEST(Gau, MatchesSeed002sReferenceGau) {
  const nlohmann::json fx = test::load_fixture("gau_seed002");
  ASSERT_FALSE(fx.empty());
  const int64_t b = fx["config"]["b"], n = fx["config"]["n"], d = fx["config"]["d"], s = fx["config"]["s"],
                e = fx["config"]["e"];
  GauOptions o;
  o.dim = d;
  o.e = e;
  o.s = s;
  o.norm = NormKind::layer_norm;
  o.norm_eps = fx["config"]["layer_norm_eps"];
  o.position = PositionType::none;
  o.scale = GauScale::inv_n;
  Gau gau(o);

  // The script's weights, in PyTorch's layout, mapped onto gau's: w_in stacks [u; v; z] while the
  // seed's to_hidden is [v; u] (value first, gate second) and to_qk is z.
  const double a_d = 1 / std::sqrt(static_cast<double>(d)), a_e = 1 / std::sqrt(static_cast<double>(e));
  Tensor hidden_w = test::counter_uniform({2 * e, d}, 3, -a_d, a_d),
         hidden_b = test::counter_uniform({2 * e}, 4, -a_d, a_d);
  Tensor qk_w = test::counter_uniform({s, d}, 5, -a_d, a_d), qk_b = test::counter_uniform({s}, 6, -a_d, a_d);
  test::set_parameter(gau, "norm.weight", test::counter_uniform({d}, 1, 0.5, 1.5));
  test::set_parameter(gau, "norm.bias", test::counter_uniform({d}, 2, -0.2, 0.2));
  test::set_parameter(gau, "w_in.weight", ops::cat({rows(hidden_w, e, e), rows(hidden_w, 0, e), qk_w}, 0));
  test::set_parameter(gau, "w_in.bias", ops::cat({rows(hidden_b, e, e), rows(hidden_b, 0, e), qk_b}, 0));
  test::set_parameter(gau, "heads.gamma", test::counter_uniform({2, s}, 7, 0.5, 1.5));
  test::set_parameter(gau, "heads.beta", test::counter_uniform({2, s}, 8, -0.5, 0.5));
  test::set_parameter(gau, "w_out.weight", test::counter_uniform({d, e}, 9, -a_e, a_e));
  test::set_parameter(gau, "w_out.bias", test::counter_uniform({d}, 10, -a_e, a_e));

  Tensor x = test::counter_uniform({b, n, d}, fx["seeds"]["x"], -1, 1).requires_grad_();
  Tensor r = test::counter_uniform({b, n, d}, fx["seeds"]["d_out"], -1, 1);
  Tensor out = gau.forward(x);
  gau::sum(gau::mul(out, r)).backward();

  const double tol = 2e-4;  // two f32 implementations, different summation orders
  const nlohmann::json& g = fx["grads"];
  test::expect_matches(out, fx["out"], tol, "output");
  test::expect_matches(x.grad(), g["x"], tol, "d_x");
  test::expect_matches(test::parameter(gau, "norm.weight").grad(), g["norm.weight"], tol, "d norm.weight");
  test::expect_matches(test::parameter(gau, "norm.bias").grad(), g["norm.bias"], tol, "d norm.bias");
  Tensor d_w_in = test::parameter(gau, "w_in.weight").grad(), d_b_in = test::parameter(gau, "w_in.bias").grad();
  test::expect_matches(ops::cat({rows(d_w_in, e, e), rows(d_w_in, 0, e)}, 0), g["to_hidden.weight"], tol,
                       "d to_hidden.weight");
  test::expect_matches(ops::cat({rows(d_b_in, e, e), rows(d_b_in, 0, e)}, 0), g["to_hidden.bias"], tol,
                       "d to_hidden.bias");
  test::expect_matches(rows(d_w_in, 2 * e, s), g["to_qk.weight"], tol, "d to_qk.weight");
  test::expect_matches(rows(d_b_in, 2 * e, s), g["to_qk.bias"], tol, "d to_qk.bias");
  test::expect_matches(test::parameter(gau, "heads.gamma").grad(), g["gamma"], tol, "d gamma");
  test::expect_matches(test::parameter(gau, "heads.beta").grad(), g["beta"], tol, "d beta");
  test::expect_matches(test::parameter(gau, "w_out.weight").grad(), g["to_out.weight"], tol, "d to_out.weight");
  test::expect_matches(test::parameter(gau, "w_out.bias").grad(), g["to_out.bias"], tol, "d to_out.bias");
}

// The same GAU with the attention written out as an n x n matrix (f64), for options the fixture
// does not cover: causal masks, the other scales and kernels. Positions: none (RoPE and the
// relative biases have their own tests), norm as the layer computes it.
Tensor naive_gau(Gau& m, const Tensor& x) {
  const GauOptions& o = m.options();
  const int64_t n = x.size(1);
  std::shared_ptr<Module> norm;
  for (const auto& [name, child] : m.named_children())
    if (name == "norm") norm = child;
  Tensor h = norm->forward(x);
  Tensor proj =
      gau::add(gau::matmul(h, test::parameter(m, "w_in.weight"), {.trans_b = true}), test::parameter(m, "w_in.bias"));
  std::vector<Tensor> uvz = gau::split(gau::silu(proj), {m.e(), m.e(), o.s}, -1);
  Tensor gamma = test::parameter(m, "heads.gamma"), beta = test::parameter(m, "heads.beta");
  Tensor q = gau::add(gau::mul(uvz[2], gau::select(gamma, 0, 0)), gau::select(beta, 0, 0));
  Tensor k = gau::add(gau::mul(uvz[2], gau::select(gamma, 0, 1)), gau::select(beta, 0, 1));
  double scale = 1.0 / n;
  if (o.scale == GauScale::inv_sqrt_s) scale = 1.0 / std::sqrt(static_cast<double>(o.s));
  if (o.scale == GauScale::inv_n_sqrt_s) scale = 1.0 / (n * std::sqrt(static_cast<double>(o.s)));
  // softmax_plus (GAU-α): the scores times log(n) / log(base); here n is the input's, max_length being 0.
  if (o.softmax_plus_base > 0) scale *= std::log(static_cast<double>(n)) / std::log(o.softmax_plus_base);
  Tensor scores = gau::mul(gau::matmul(q, k, {.trans_b = true}), scale);  // [b, n, n]
  Tensor mask = ops::zeros({n, n}, DType::f64);
  if (o.causal) {
    std::vector<double> v(static_cast<size_t>(n * n), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) v[static_cast<size_t>(i * n + j)] = 1;
    mask = ops::from_vector<double>(v, {n, n});
  }
  Tensor weights;
  if (o.kernel == attention::Kernel::softmax) {
    weights = gau::softmax(gau::add(scores, gau::mul(mask, -1e30)), -1);
  } else {
    weights = gau::mul(gau::relu2(scores), gau::rsub(1.0, mask));
  }
  Tensor a = gau::matmul(weights, uvz[1]);
  Tensor o_ = gau::add(gau::matmul(gau::mul(uvz[0], a), test::parameter(m, "w_out.weight"), {.trans_b = true}),
                       test::parameter(m, "w_out.bias"));
  return gau::add(x, o_);
}

struct Variant {
  const char* name;
  bool causal;
  GauScale scale;
  attention::Kernel kernel;
  double softmax_plus_base = 0;
};

TEST(Gau, MatchesANaiveF64GauAndGradcheck) {
  const std::vector<Variant> variants = {
      {"inv_n relu2", false, GauScale::inv_n, attention::Kernel::relu2},
      {"causal inv_n relu2", true, GauScale::inv_n, attention::Kernel::relu2},
      {"causal inv_sqrt_s relu2", true, GauScale::inv_sqrt_s, attention::Kernel::relu2},
      {"inv_n_sqrt_s relu2", false, GauScale::inv_n_sqrt_s, attention::Kernel::relu2},
      {"causal softmax", true, GauScale::inv_sqrt_s, attention::Kernel::softmax},
      // A base below n = 5 sharpens the scores (factor log 5 / log 2), so a missed factor shows.
      {"causal softmax_plus", true, GauScale::inv_sqrt_s, attention::Kernel::softmax, 2},
      {"softmax_plus", false, GauScale::inv_sqrt_s, attention::Kernel::softmax, 2},
  };
  for (const Variant& v : variants) {
    GauOptions o;
    o.dim = 6;
    o.e = 10;
    o.s = 4;
    o.norm = NormKind::rms_norm;
    o.position = PositionType::none;
    o.causal = v.causal;
    o.scale = v.scale;
    o.kernel = v.kernel;
    o.softmax_plus_base = v.softmax_plus_base;
    Gau m(o);
    m.to(Device::cpu(), DType::f64);
    // Wider scale-offsets than the N(0, 0.02) init, so that the attention carries weight.
    test::set_parameter(m, "heads.gamma", test::uniform64({2, 4}, 5, 0.5, 1.5));
    test::set_parameter(m, "heads.beta", test::uniform64({2, 4}, 6, -0.5, 0.5));
    Tensor x = test::randn64({2, 5, 6}, 7);
    test::expect_close(m.forward(x), test::values(naive_gau(m, x)), 1e-10, v.name);
    Tensor r = test::randn64({2, 5, 6}, 8);
    EXPECT_TRUE(test::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); })) << v.name;
    Tensor xg = x.detach().requires_grad_(), xr = x.detach().requires_grad_();
    gau::sum(gau::mul(m.forward(xg), r)).backward();
    gau::sum(gau::mul(naive_gau(m, xr), r)).backward();
    test::expect_close(xg.grad(), test::values(xr.grad()), 1e-9, std::string(v.name) + " d_x");
  }
}

GauOptions decoding_options(PositionType position) {
  GauOptions o;
  o.dim = 8;
  o.e = 12;
  o.s = 6;
  o.position = position;
  o.max_length = 16;
  o.causal = true;
  return o;
}

TEST(Gau, DecodingEqualsTheFullCausalPass) {
  RelativeBiasOptions per_offset{.kind = RelativeBiasKind::per_offset, .max_offset = 4};
  RelativeBiasOptions t5{.kind = RelativeBiasKind::t5, .num_buckets = 8, .max_distance = 16, .bidirectional = false};
  struct Case {
    const char* name;
    PositionType position;
    RelativeBiasOptions relative;
  };
  for (const Case& c : {Case{"rope", PositionType::rope, {}}, Case{"per_offset", PositionType::relative, per_offset},
                        Case{"t5", PositionType::relative, t5}, Case{"none", PositionType::none, {}},
                        Case{"softmax_plus", PositionType::rope, {}}}) {
    GauOptions o = decoding_options(c.position);
    o.relative = c.relative;
    if (std::string(c.name) == "softmax_plus") {  // log(max_length) / log(base), the same at every step
      o.kernel = attention::Kernel::softmax;
      o.softmax_plus_base = 4;
    }
    Gau m(o);
    m.eval();
    Tensor x = test::randn({2, 10, 8}, DType::f32, 9);
    Tensor full;
    {
      NoGradGuard no_grad;
      full = m.forward(x);
    }
    for (int64_t step : {1, 3}) {
      test::expect_close(test::decode_in_steps(m, x, step, 16), test::values(full), 1e-5,
                         std::string(c.name) + ", " + std::to_string(step) + " per step");
    }
  }
}

TEST(Gau, PaddedRowsMatchTheUnpaddedSequence) {
  // inv_n with padding divides by each row's valid length, and softmax_plus scales by its log:
  // row r padded to n = 9 gives, on its first L_r tokens, what the unpadded L_r tokens give alone.
  for (bool causal : {false, true}) {
    for (bool softmax_plus : {false, true}) {
      GauOptions o = decoding_options(PositionType::rope);
      o.causal = causal;
      o.max_length = 0;
      o.position = PositionType::none;
      if (softmax_plus) {
        o.kernel = attention::Kernel::softmax;
        o.scale = GauScale::inv_sqrt_s;
        o.softmax_plus_base = 2;
      }
      Gau m(o);
      Tensor x = test::randn({2, 9, 8}, DType::f32, 11);
      const std::vector<int64_t> lengths = {6, 9};
      Tensor padded = m.forward_sequence(x, {.key_lengths = ops::from_vector<int64_t>(lengths, {2})});
      for (int64_t r = 0; r < 2; ++r) {
        Tensor alone = m.forward(ops::contiguous(ops::narrow(ops::narrow(x, 0, r, 1), 1, 0, lengths[r])));
        test::expect_close(ops::narrow(ops::narrow(padded, 0, r, 1), 1, 0, lengths[r]), test::values(alone), 1e-5,
                           std::string(causal ? "causal" : "bidirectional") + (softmax_plus ? " softmax_plus" : "") +
                               " row " + std::to_string(r));
      }
    }
  }
}

TEST(Gau, CheckpointingGivesTheSameGradientsWithLessMemory) {
  GauOptions o;
  o.dim = 64;
  o.e = 256;
  o.s = 32;
  o.max_length = 512;
  Gau plain(o);
  o.checkpoint = true;
  Gau ckpt(o);
  ckpt.load_state_dict(plain.state_dict());
  Tensor x = test::randn({2, 512, 64}, DType::f32, 10);
  auto run = [&](Gau& m) {
    Tensor xi = x.detach().requires_grad_();
    const size_t start = memory_stats().current;
    reset_peak_memory();
    Tensor y = m.forward(xi);
    Tensor loss = gau::sum(gau::mul(y, y));
    const size_t after_forward = memory_stats().current - start;  // what the graph keeps
    loss.backward();
    return std::make_pair(after_forward, xi.grad());
  };
  auto [kept_plain, d_plain] = run(plain);
  auto [kept_ckpt, d_ckpt] = run(ckpt);
  test::expect_close(d_ckpt, test::values(d_plain), 1e-6, "d_x");
  for (const auto& [name, p] : ckpt.named_parameters())
    test::expect_close(p.grad(), test::values(test::parameter(plain, name).grad()), 1e-6, "d " + name);
  // The plain block keeps u, v, z, q, k and more per token; the checkpointed one its input and output.
  EXPECT_LT(kept_ckpt * 3, kept_plain) << "checkpointed " << kept_ckpt << " bytes, plain " << kept_plain;
}

TEST(Gau, BadInputIsNamed) {
  GauOptions o = decoding_options(PositionType::rope);
  Gau m(o);
  EXPECT_THAT(error_of([&] { m.forward(ops::randn({2, 5, 7})); }), HasSubstr("expected x [b, n, 8]"));
  EXPECT_THAT(error_of([&] { m.forward(ops::randn({1, 17, 8})); }), HasSubstr("more than max_length 16"));
  o.s = 5;
  EXPECT_THAT(error_of([&] { Gau g(o); }), HasSubstr("s must be even"));
  EXPECT_THAT(error_of([&] { build(YAML::Load("{type: gau, dim: 8, s: 5, max_length: 8}"), "model.blocks[1]"); }),
              HasSubstr("model.blocks[1].s"));
  EXPECT_THAT(error_of([&] { build(YAML::Load("{type: gau, dim: 8, norm: batch_norm}"), "model.blocks[0]"); }),
              HasSubstr("batch_norm"));
  EXPECT_THAT(error_of([&] { build(YAML::Load("{type: gau, dim: 0}"), "model.blocks[0]"); }), HasSubstr("dim"));
  GauOptions bidirectional = decoding_options(PositionType::none);
  bidirectional.causal = false;
  Gau b(bidirectional);
  EXPECT_THAT(error_of([&] { b.start_decoding(1, 4); }), HasSubstr("causal"));
  GauOptions no_length = decoding_options(PositionType::none);
  no_length.max_length = 0;
  Gau c(no_length);
  EXPECT_THAT(error_of([&] { c.start_decoding(1, 4); }), HasSubstr("set max_length"));
  no_length.kernel = attention::Kernel::softmax;
  no_length.scale = GauScale::inv_sqrt_s;
  no_length.softmax_plus_base = 512;
  Gau d(no_length);
  EXPECT_THAT(error_of([&] { d.start_decoding(1, 4); }), HasSubstr("softmax_plus with max_length 0"));
  no_length.kernel = attention::Kernel::relu2;
  EXPECT_THAT(error_of([&] { Gau g(no_length); }), HasSubstr("with the softmax kernel, got 512 with kernel relu2"));
  // softmax_plus_base is read with kernel softmax_plus only; elsewhere it is an unknown key.
  const YAML::Node base_without_plus =
      YAML::Load("{type: gau, dim: 8, max_length: 8, kernel: relu2, softmax_plus_base: 64}");
  EXPECT_THAT(error_of([&] { build(base_without_plus, "m"); }), HasSubstr("softmax_plus_base"));
  const YAML::Node base_of_one =
      YAML::Load("{type: gau, dim: 8, max_length: 8, kernel: softmax_plus, softmax_plus_base: 1}");
  EXPECT_THAT(error_of([&] { build(base_of_one, "m"); }), HasSubstr("m.softmax_plus_base"));
}

TEST(Gau, SoftmaxPlusFromConfigScalesByLogMaxLengthOverLogBase) {
  // With max_length set, the factor is log(max_length) / log(base) = log 64 / log 8 = 2 whatever the
  // input's length: at n = max_length it is the naive GAU's softmax(S · log(n) / log(base)).
  auto plus = std::dynamic_pointer_cast<Gau>(build(
      YAML::Load("{type: gau, dim: 6, e: 10, s: 4, max_length: 64, position: none, norm: rms_norm, "
                 "kernel: softmax_plus, softmax_plus_base: 8, scale: inv_sqrt_s}"),
      "m"));
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->options().kernel, attention::Kernel::softmax);
  EXPECT_DOUBLE_EQ(plus->options().softmax_plus_base, 8);
  plus->to(Device::cpu(), DType::f64);
  test::set_parameter(*plus, "heads.gamma", test::uniform64({2, 4}, 5, 0.5, 1.5));
  test::set_parameter(*plus, "heads.beta", test::uniform64({2, 4}, 6, -0.5, 0.5));
  Tensor x = test::randn64({2, 64, 6}, 7);
  test::expect_close(plus->forward(x), test::values(naive_gau(*plus, x)), 1e-10, "softmax_plus, n = max_length");
  auto default_base = std::dynamic_pointer_cast<Gau>(
      build(YAML::Load("{type: gau, dim: 8, max_length: 64, kernel: softmax_plus}"), "m"));
  ASSERT_TRUE(default_base);
  EXPECT_DOUBLE_EQ(default_base->options().softmax_plus_base, 512);
}

}  // namespace
}  // namespace gau::layers
