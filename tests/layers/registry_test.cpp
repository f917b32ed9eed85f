// Every registered layer, built from its example config: forward and backward on its example
// input, config() round trip, state dict round trip and flattening (bitwise the same forward).
// A new layer is covered as soon as it registers. The test also registers a layer of its own
// from outside libgau.so, as a user's code would.
#include "layers/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/flat_parameters.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

// A layer registered by the test executable: y = x * scale (per feature).
class TestScale : public Module {
 public:
  explicit TestScale(int64_t dim) : Module("TestScale") { scale_ = register_parameter("scale", ops::full({dim}, 2.0)); }
  Tensor forward(const Tensor& x) override { return gau::mul(x, scale_); }
  static std::shared_ptr<Module> from_config(ConfigReader& r) {
    return std::make_shared<TestScale>(r.integer("dim", Range::at_least(1)));
  }
  static const char* example_config() { return "{dim: 3}"; }
  static Tensor example_input(const TestScale& m, uint64_t seed) { return test::randn({4, 3}, DType::f32, seed); }

 private:
  Tensor scale_;
};
GAU_REGISTER_LAYER("test_scale", TestScale);

// A layer whose constructor checks its values the way a user's layer does, with GAU_CHECK and no
// ConfigReader: the registry adds where in the config the layer was built.
class TestPairs : public Module {
 public:
  explicit TestPairs(int64_t dim) : Module("TestPairs") {
    GAU_CHECK(dim % 2 == 0, "TestPairs: dim must be even, got ", dim);
    scale_ = register_parameter("scale", ops::full({dim}, 1.0));
  }
  Tensor forward(const Tensor& x) override { return gau::mul(x, scale_); }
  static std::shared_ptr<Module> from_config(ConfigReader& r) { return std::make_shared<TestPairs>(r.integer("dim")); }
  static const char* example_config() { return "{dim: 2}"; }
  static Tensor example_input(const TestPairs& m, uint64_t seed) { return test::randn({3, 2}, DType::f32, seed); }

 private:
  Tensor scale_;
};
GAU_REGISTER_LAYER("test_pairs", TestPairs);

std::shared_ptr<Module> build_example(const LayerType& t) {
  YAML::Node node = YAML::Load(t.example_config);
  node["type"] = t.name;
  return build(node, "model." + t.name);
}

std::vector<double> forward_values(Module& m, const Tensor& x) {
  NoGradGuard no_grad;
  return test::values(m.forward(x));
}

TEST(Registry, KnowsTheLibraryLayersAndTheTestsOwn) {
  const std::vector<std::string> names = Registry::global().names();
  for (const char* want :
       {"dropout", "embedding", "fused_linear", "glu", "layer_norm", "linear", "mlp", "multi_head_attention",
        "relative_position_bias", "rms_norm", "rotary_embedding", "scale_norm", "scale_offset", "scaled_sinusoidal",
        "sequential", "swiglu", "test_scale", "transformer_pp"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Registry, AFactorysOwnErrorNamesTheLayersConfigPosition) {
  const char* text =
      "type: sequential\n"
      "layers:\n"
      "  - {type: test_pairs, dim: 2}\n"
      "  - {type: test_pairs, dim: 3}\n";
  const std::string msg = test::error_of([&] { build(YAML::Load(text), "model", "x.yaml"); });
  EXPECT_EQ(msg.rfind("model.layers[1] (x.yaml:4:5): TestPairs: dim must be even, got 3", 0), 0) << msg;
  // A reader's error already says where: it is not prefixed twice.
  const std::string reader_msg = test::error_of([] { build(YAML::Load("{type: test_pairs, dim: x}"), "model.p"); });
  EXPECT_EQ(reader_msg.rfind("model.p.dim (line 1:25): expected an integer", 0), 0) << reader_msg;
}

TEST(Registry, EveryLayerBuildsRunsAndRoundTrips) {
  for (const LayerType* t : Registry::global().types()) {
    SCOPED_TRACE(t->name);
    std::shared_ptr<Module> m = build_example(*t);
    EXPECT_EQ(m->path(), "model." + t->name);
    EXPECT_EQ(m->config()["type"].as<std::string>(), t->name);
    Tensor x = t->example_input(*m, 5);
    // A floating input is differentiated too, so layers without parameters (dropout, RoPE) have a
    // backward to run.
    if (is_floating(x.dtype())) x = ops::clone(x).requires_grad_();
    // Forward and backward: every parameter (and a floating input) gets a finite, non-zero
    // gradient of its shape.
    Tensor y = m->forward(x);
    gau::sum(gau::mul(y, test::randn(y.shape(), y.dtype(), 6))).backward();
    if (x.requires_grad()) {
      ASSERT_TRUE(x.grad().defined()) << "the input got no gradient";
      double norm = 0;
      for (double v : test::values(x.grad())) norm += v * v;
      EXPECT_TRUE(std::isfinite(norm) && norm > 0) << "input gradient norm " << norm;
    }
    for (const auto& [name, p] : m->named_parameters()) {
      ASSERT_TRUE(p.grad().defined()) << name << " got no gradient";
      EXPECT_EQ(p.grad().shape(), p.shape()) << name;
      double norm = 0;
      for (double v : test::values(p.grad())) norm += v * v;
      EXPECT_TRUE(std::isfinite(norm) && norm > 0) << name << ": gradient norm " << norm;
    }
    // config() rebuilds the same layer: the same config, and with the state dict the same output.
    std::shared_ptr<Module> again = build(m->config(), "model.again");
    EXPECT_EQ(YAML::Dump(again->config()), YAML::Dump(m->config()));
    again->load_state_dict(m->state_dict());
    const std::vector<double> want = forward_values(*m, x);
    EXPECT_EQ(forward_values(*again, x), want);
    // Flattened, it computes bitwise the same.
    FlatParameters flat(*again);
    EXPECT_TRUE(flat.bound());
    EXPECT_EQ(forward_values(*again, x), want);
  }
}

}  // namespace
}  // namespace gau::layers
