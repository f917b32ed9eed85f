// LayerNorm, RMSNorm and ScaleNorm against naive f64 loops (forward, d_x and the parameter
// gradients), gradcheck, the make_norm factory and bad input.
#include "layers/norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"
#include "tests/layers/naive_layers.h"
#include "tests/support/checks.h"
#include "tests/support/module_check.h"

namespace gau::layers {
namespace {

using test::error_of;

// Parameters away from their init, so that a wrong use of w, b or g shows.
void perturb(Module& m, uint64_t seed) {
  NoGradGuard no_grad;
  for (const auto& [name, p] : m.named_parameters())
    ops::copy_(p, ops::add(p, test::randn(p.shape(), p.dtype(), seed++)));
}

TEST(Norm, LayerNormMatchesTheReference) {
  for (DType dt : {DType::f64, DType::f32}) {
    SCOPED_TRACE(dtype_name(dt));
    LayerNorm m(7, 1e-5);
    m.to(Device::cpu(), dt);
    perturb(m, 1);
    naive::expect_matches(
        m, test::randn({2, 3, 7}, dt, 2), [&](const Tensor& x) { return m.forward(x); },
        [](const naive::Params& p, const naive::Vec& x) {
          return naive::layer_norm(x, p.at("weight"), p.at("bias"), 7, 1e-5);
        },
        test::ref_tol(dt));
  }
}

TEST(Norm, RMSNormMatchesTheReference) {
  for (DType dt : {DType::f64, DType::f32}) {
    SCOPED_TRACE(dtype_name(dt));
    RMSNorm m(5, 1e-6);
    m.to(Device::cpu(), dt);
    perturb(m, 3);
    naive::expect_matches(
        m, test::randn({4, 5}, dt, 4), [&](const Tensor& x) { return m.forward(x); },
        [](const naive::Params& p, const naive::Vec& x) { return naive::rms_norm(x, p.at("weight"), 5, 1e-6); },
        test::ref_tol(dt));
  }
}

TEST(Norm, ScaleNormMatchesTheReferenceAndStartsAtSqrtD) {
  ScaleNorm fresh(16);
  EXPECT_DOUBLE_EQ(test::values(fresh.g())[0], 4.0) << "g starts at sqrt(d)";
  for (DType dt : {DType::f64, DType::f32}) {
    SCOPED_TRACE(dtype_name(dt));
    ScaleNorm m(6, 1e-5);
    m.to(Device::cpu(), dt);
    perturb(m, 5);
    naive::expect_matches(
        m, test::randn({3, 6}, dt, 6), [&](const Tensor& x) { return m.forward(x); },
        [](const naive::Params& p, const naive::Vec& x) { return naive::scale_norm(x, p.at("g")[0], 6, 1e-5); },
        test::ref_tol(dt));
  }
}

TEST(Norm, Gradcheck) {
  for (NormKind kind : {NormKind::layer_norm, NormKind::rms_norm, NormKind::scale_norm}) {
    SCOPED_TRACE(norm_kind_name(kind));
    std::shared_ptr<Module> m = make_norm(kind, 4);
    m->to(Device::cpu(), DType::f64);
    perturb(*m, 7);
    const Tensor x = test::randn64({3, 4}, 8), r = test::randn64({3, 4}, 9);
    EXPECT_TRUE(test::module_gradcheck(*m, [&] { return gau::sum(gau::mul(m->forward(x), r)); }));
    GAU_EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return m->forward(in[0]); }, {test::randn64({2, 4}, 10)});
  }
}

TEST(Norm, FactoryAndNames) {
  EXPECT_EQ(norm_kind_from_name("rms_norm"), NormKind::rms_norm);
  EXPECT_EQ(std::string(norm_kind_name(norm_kind_from_name("layer_norm"))), "layer_norm");
  EXPECT_NE(dynamic_cast<ScaleNorm*>(make_norm(NormKind::scale_norm, 8).get()), nullptr);
  auto ln = std::dynamic_pointer_cast<LayerNorm>(make_norm(NormKind::layer_norm, 8, 1e-3));
  ASSERT_NE(ln, nullptr);
  EXPECT_EQ(ln->eps(), 1e-3);
  EXPECT_EQ(ln->weight().shape(), (Shape{8}));
  const std::string msg = error_of([] { norm_kind_from_name("batch_norm"); });
  EXPECT_NE(msg.find("unknown norm type 'batch_norm', expected one of layer_norm, rms_norm, scale_norm"),
            std::string::npos)
      << msg;
}

TEST(Norm, BadInputNamesTheLayerAndItsPath) {
  auto m = build(YAML::Load("{type: rms_norm, dim: 8}"), "model.blocks[1].norm");
  std::string msg = error_of([&] { m->forward(ops::zeros({2, 6})); });
  EXPECT_NE(msg.find("RMSNorm 'model.blocks[1].norm': expected an input [..., 8], got f32[2, 6] on cpu"),
            std::string::npos)
      << msg;
  msg = error_of([&] { m->forward(ops::zeros({2, 8}, DType::f64)); });
  EXPECT_NE(msg.find("does not match the parameter"), std::string::npos) << msg;
  msg = error_of([] { build(YAML::Load("{type: layer_norm, dim: 8, eps: 0}"), "m.norm"); });
  EXPECT_NE(msg.find("m.norm.eps"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { LayerNorm bad(0); }).find("dim and eps must be > 0"), std::string::npos);
}

}  // namespace
}  // namespace gau::layers
