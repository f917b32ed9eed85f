// GatedConv: forward against a naive f64 composition of its definition, gradients of the input
// and of every parameter, decoding (token by token and in chunks) against forward_sequence, the
// state dict, the registry (from YAML, alone and inside a language model) and bad configs.
#include "gated_conv.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/device.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "helpers.h"
#include "layers/models/language_model.h"
#include "layers/module_gradcheck.h"
#include "layers/registry.h"

namespace gau_custom {
namespace {

using gau::DType;
using gau::Tensor;

std::map<std::string, std::vector<double>> parameter_values(const gau::layers::Module& m) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, p] : m.named_parameters()) out[name] = test::values(p);
  return out;
}

// y = x + W_out (conv(v) ⊙ silu(g)) + b_out, [v | g] = W_in rms_norm(x) + b_in; x [B, n, d].
std::vector<double> reference(const GatedConv& m, const std::vector<double>& x, int64_t B, int64_t n) {
  auto p = parameter_values(m);
  const int64_t d = m.width(), e = m.e(), k = m.kernel(), rows = B * n;
  std::vector<double> v(rows * e), g(rows * e), y(x);
  for (int64_t r = 0; r < rows; ++r) {
    double sq = 0;
    for (int64_t i = 0; i < d; ++i) sq += x[r * d + i] * x[r * d + i];
    const double rstd = 1 / std::sqrt(sq / d + 1e-5);
    for (int64_t o = 0; o < 2 * e; ++o) {
      double s = p["w_in.bias"][o];
      for (int64_t i = 0; i < d; ++i) s += p["w_in.weight"][o * d + i] * x[r * d + i] * rstd * p["norm.weight"][i];
      (o < e ? v[r * e + o] : g[r * e + o - e]) = s;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = r % n;
    std::vector<double> a(e);
    for (int64_t c = 0; c < e; ++c) {
      double conv = 0;
      for (int64_t j = 0; j <= std::min(k - 1, t); ++j) conv += p["conv"][j * e + c] * v[(r - j) * e + c];
      a[c] = conv * g[r * e + c] / (1 + std::exp(-g[r * e + c]));
    }
    for (int64_t o = 0; o < d; ++o) {
      double s = p["w_out.bias"][o];
      for (int64_t c = 0; c < e; ++c) s += p["w_out.weight"][o * e + c] * a[c];
      y[r * d + o] += s;
    }
  }
  return y;
}

// Every parameter random, biases and the norm's weight included (they start at 0 and 1, where a
// forgotten one would go unnoticed).
void randomize(const GatedConv& m, uint64_t seed) {
  gau::NoGradGuard no_grad;
  for (const auto& [name, p] : m.named_parameters())
    gau::ops::copy_(p, test::randn(p.shape(), p.dtype(), seed++));
}

GatedConv small_block(int64_t kernel) { return GatedConv({.dim = 4, .e = 3, .kernel = kernel}); }

TEST(GatedConv, MatchesTheNaiveComposition) {
  for (DType dt : {DType::f64, DType::f32}) {
    SCOPED_TRACE(gau::dtype_name(dt));
    GatedConv m = small_block(3);
    m.to(gau::Device::cpu(), dt);
    randomize(m, 1);
    const Tensor x = test::randn({2, 5, 4}, dt, 20);
    const Tensor want = gau::ops::from_vector<double>(reference(m, test::values(x), 2, 5), {2, 5, 4});
    EXPECT_TRUE(test::all_close(m.forward(x), want, dt == DType::f64 ? 1e-10 : 1e-4, 1e-4));
  }
}

TEST(GatedConv, GradcheckOfTheInputAndEveryParameter) {
  for (int64_t kernel : {2, 7}) {  // 7: longer than the sequence
    SCOPED_TRACE("kernel " + std::to_string(kernel));
    GatedConv m = small_block(kernel);
    m.to(gau::Device::cpu(), DType::f64);
    randomize(m, 2);
    const Tensor x = test::randn({2, 4, 4}, DType::f64, 21), r = test::randn({2, 4, 4}, DType::f64, 22);
    EXPECT_TRUE(gau::layers::module_gradcheck(m, [&] { return gau::sum(gau::mul(m.forward(x), r)); }));
    EXPECT_TRUE(gau::gradcheck([&](const std::vector<Tensor>& in) { return m.forward(in[0]); }, {x}));
  }
}

// m's outputs for x decoded `step` tokens at a time, concatenated along the sequence.
Tensor decode_in_steps(GatedConv& m, const Tensor& x, int64_t step) {
  const int64_t n = x.size(1);
  auto cache = m.start_decoding(x.size(0), n);
  std::vector<Tensor> parts;
  for (int64_t t = 0; t < n; t += step) {
    parts.push_back(m.decode(gau::ops::narrow(x, 1, t, std::min(step, n - t)), *cache));
    EXPECT_FALSE(parts.back().requires_grad());
  }
  EXPECT_EQ(cache->position, n);
  return gau::ops::cat(parts, 1);
}

TEST(GatedConv, DecodingMatchesTheSequence) {
  for (int64_t kernel : {1, 3, 9}) {
    GatedConv m = small_block(kernel);
    randomize(m, 3);
    const Tensor x = test::randn({3, 7, 4}, DType::f32, 23);
    Tensor full;
    {
      gau::NoGradGuard no_grad;
      full = m.forward_sequence(x, {});
    }
    for (int64_t step : {1, 3, 7}) {
      SCOPED_TRACE("kernel " + std::to_string(kernel) + ", steps of " + std::to_string(step));
      EXPECT_TRUE(test::all_close(decode_in_steps(m, x, step), full, 1e-5, 1e-5));
    }
  }
}

TEST(GatedConv, DecodeChecksItsCache) {
  GatedConv m = small_block(3);
  auto cache = m.start_decoding(2, 4);
  std::string msg = test::error_of([&] { m.decode(gau::ops::zeros({3, 1, 4}), *cache); });
  EXPECT_NE(msg.find("GatedConv: the cache holds 2 sequences, x f32[3, 1, 4]"), std::string::npos) << msg;
  m.decode(gau::ops::zeros({2, 3, 4}), *cache);
  msg = test::error_of([&] { m.decode(gau::ops::zeros({2, 2, 4}), *cache); });
  EXPECT_NE(msg.find("decoding to position 5 past the cache's max_length 4"), std::string::npos) << msg;
  gau::layers::DecodeCache other;
  msg = test::error_of([&] { m.decode(gau::ops::zeros({2, 1, 4}), other); });
  EXPECT_NE(msg.find("a cache that this block's start_decoding did not make"), std::string::npos) << msg;
}

TEST(GatedConv, CudaMatchesCpu) {
#ifndef GAU_CUSTOM_WITH_CUDA
  GTEST_SKIP() << "libgau_custom was built without its CUDA kernel (gau has no CUDA backend)";
#else
  if (!gau::cuda_available()) GTEST_SKIP() << "no GPU visible";
  GatedConv cpu = small_block(3), gpu = small_block(3);
  randomize(cpu, 5);
  gpu.load_state_dict(cpu.state_dict());
  gpu.to(gau::Device::cuda(0));
  const Tensor x = test::randn({2, 9, 4}, DType::f32, 25), r = test::randn({2, 9, 4}, DType::f32, 26);
  const Tensor xg = gau::ops::to_device(x, gau::Device::cuda(0));
  const Tensor y_cpu = cpu.forward(x), y_gpu = gpu.forward(xg);
  EXPECT_EQ(y_gpu.device(), gau::Device::cuda(0));
  EXPECT_TRUE(test::all_close(y_gpu, y_cpu, 1e-5, 1e-4));
  gau::sum(gau::mul(y_cpu, r)).backward();
  gau::sum(gau::mul(y_gpu, gau::ops::to_device(r, gau::Device::cuda(0)))).backward();
  EXPECT_TRUE(test::all_close(gpu.conv_weight().grad(), cpu.conv_weight().grad(), 1e-4, 1e-4));
  EXPECT_TRUE(test::all_close(decode_in_steps(gpu, xg, 2), y_cpu, 1e-5, 1e-4));
#endif
}

TEST(GatedConv, StateDictRoundTrip) {
  GatedConv a = small_block(3), b = small_block(3);
  randomize(a, 4);
  randomize(b, 40);
  const auto state = a.state_dict();
  std::set<std::string> keys;
  for (const auto& [name, t] : state) keys.insert(name);
  EXPECT_EQ(keys, (std::set<std::string>{"conv", "norm.weight", "w_in.weight", "w_in.bias", "w_out.weight",
                                         "w_out.bias"}));
  EXPECT_EQ(state.at("conv").shape(), (gau::Shape{3, 3}));
  const Tensor x = test::randn({2, 5, 4}, DType::f32, 24);
  gau::NoGradGuard no_grad;
  EXPECT_FALSE(test::all_close(b.forward(x), a.forward(x), 1e-3, 1e-3)) << "two seeds gave the same block";
  b.load_state_dict(state);
  EXPECT_TRUE(test::all_close(b.forward(x), a.forward(x), 0, 0));
  // A state dict of another kernel size is refused, naming the parameter.
  GatedConv wider = small_block(4);
  const std::string msg = test::error_of([&] { wider.load_state_dict(state); });
  EXPECT_NE(msg.find("conv"), std::string::npos) << msg;
}

TEST(GatedConv, BuildsFromYamlThroughTheRegistry) {
  auto built = gau::layers::build(YAML::Load("{type: gated_conv, dim: 8, kernel: 3}"), "model.mixer");
  auto* m = dynamic_cast<GatedConv*>(built.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->path(), "model.mixer");
  EXPECT_EQ(m->width(), 8);
  EXPECT_EQ(m->e(), 16);
  EXPECT_EQ(m->kernel(), 3);
  EXPECT_EQ(m->conv_weight().shape(), (gau::Shape{3, 16}));
  // config() has every default filled in and rebuilds the same block.
  const YAML::Node config = m->config();
  EXPECT_EQ(config["e"].as<int64_t>(), 16);
  EXPECT_EQ(config["norm"].as<std::string>(), "rms_norm");
  auto rebuilt = gau::layers::build(config, "model.mixer");
  EXPECT_EQ(rebuilt->parameter_count(), m->parameter_count());
  rebuilt->load_state_dict(m->state_dict());

  const gau::layers::LayerType* type = gau::layers::Registry::global().find("gated_conv");
  ASSERT_NE(type, nullptr);
  gau::layers::ConfigReader reader(YAML::Load(type->example_config), "example");
  auto example = type->from_config(reader);
  const Tensor y = example->forward(type->example_input(*example, 1));
  EXPECT_EQ(y.shape(), (gau::Shape{2, 6, 8}));
}

TEST(GatedConv, BadConfigsNameTheKey) {
  std::string msg = test::error_of([] { gau::layers::build(YAML::Load("{type: gated_conv, dim: 8, kernal: 3}"), "m.b"); });
  EXPECT_NE(msg.find("m.b.kernal"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'kernel'?"), std::string::npos) << msg;
  msg = test::error_of([] { gau::layers::build(YAML::Load("{type: gated_conv, dim: 8, kernel: 0}"), "m.b"); });
  EXPECT_NE(msg.find("m.b.kernel"), std::string::npos) << msg;
  msg = test::error_of([] { gau::layers::build(YAML::Load("{type: gated_conv, dim: 8, causal: false}"), "m.b"); });
  EXPECT_NE(msg.find("m.b.causal"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gated_conv is causal only"), std::string::npos) << msg;
}

TEST(GatedConv, TrainsAndDecodesInsideALanguageModel) {
  gau::default_generator().manual_seed(5);
  auto built = gau::layers::build(YAML::Load(R"(
    {type: language_model, vocab: 32, dim: 8, max_length: 16,
     blocks: [{type: gated_conv, kernel: 3}, {type: gau, s: 4}, {type: gated_conv}]})"));
  auto& lm = dynamic_cast<gau::layers::LanguageModel&>(*built);
  auto* first = dynamic_cast<GatedConv*>(&lm.blocks()[0]);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->path(), "model.blocks[0]");
  EXPECT_EQ(dynamic_cast<GatedConv&>(lm.blocks()[2]).kernel(), 4);  // the default

  const Tensor ids = gau::layers::example_token_ids(2, 10, 32, gau::Device::cpu(), 6);
  const Tensor targets = gau::layers::example_token_ids(2, 10, 32, gau::Device::cpu(), 7);
  const Tensor loss = lm.loss(ids, targets);
  EXPECT_TRUE(std::isfinite(loss.item()));
  loss.backward();
  const std::vector<double> grad = test::values(first->conv_weight().grad());
  double norm = 0;
  for (double v : grad) norm += v * v;
  EXPECT_GT(norm, 0) << "the convolution's weight got no gradient through the model";

  gau::NoGradGuard no_grad;
  lm.eval();
  const Tensor logits = lm.logits(ids);
  gau::layers::LanguageModelCache cache = lm.start_decoding(2, 10);
  for (int64_t t = 0; t < 10; t += 4) {
    const int64_t m = std::min<int64_t>(4, 10 - t);
    SCOPED_TRACE("tokens " + std::to_string(t) + " .. " + std::to_string(t + m - 1));
    EXPECT_TRUE(test::all_close(lm.decode_logits(gau::ops::narrow(ids, 1, t, m), cache),
                                gau::ops::narrow(logits, 1, t, m), 1e-5, 1e-4));
  }
}

}  // namespace
}  // namespace gau_custom
