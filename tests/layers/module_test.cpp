// Module: registration order and hierarchical names, tied parameters, train/eval, to(), the
// state dict and its strict loading errors, parameter counts and the summary.
#include "layers/module.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/module_summary.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau::layers {
namespace {

using test::error_of;

struct Leaf : Module {
  Leaf(int64_t in, int64_t out, uint64_t seed) : Module("Leaf") {
    weight = register_parameter("weight", test::randn({out, in}, DType::f32, seed));
    bias = register_parameter("bias", ops::zeros({out}));
    table = register_buffer("table", ops::arange(0, 4, 1, DType::f32), /*persistent=*/false);
    steps = register_buffer("steps", ops::zeros({1}, DType::i64));
  }
  Tensor weight, bias, table, steps;
};

struct Block : Module {
  Block() : Module("Block") {
    scale = register_parameter("scale", ops::ones({3}));
    first = register_module("first", std::make_shared<Leaf>(3, 4, 1));
    second = register_module("second", std::make_shared<Leaf>(4, 2, 2));
  }
  Tensor scale;
  std::shared_ptr<Leaf> first, second;
};

struct Net : Module {
  Net() : Module("Net") {
    for (int i = 0; i < 2; ++i) blocks.push_back(register_module("b" + std::to_string(i), std::make_shared<Block>()));
  }
  std::vector<std::shared_ptr<Block>> blocks;
};

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& [n, t] : named) out.push_back(n);
  return out;
}

TEST(Module, NamesAreHierarchicalInRegistrationOrder) {
  Net net;
  const std::vector<std::string> want = {"b0.scale",         "b0.first.weight", "b0.first.bias",   "b0.second.weight",
                                         "b0.second.bias",   "b1.scale",        "b1.first.weight", "b1.first.bias",
                                         "b1.second.weight", "b1.second.bias"};
  EXPECT_EQ(names_of(net.named_parameters()), want);
  EXPECT_EQ(net.parameters().size(), want.size());
  EXPECT_EQ(names_of(net.named_buffers()).front(), "b0.first.table");
  EXPECT_EQ(net.named_buffers().size(), 8u);
  std::vector<std::string> modules;
  for (const auto& [n, m] : net.named_modules()) modules.push_back(n + ":" + m->type_name());
  EXPECT_EQ(modules, (std::vector<std::string>{":Net", "b0:Block", "b0.first:Leaf", "b0.second:Leaf", "b1:Block",
                                               "b1.first:Leaf", "b1.second:Leaf"}));
  EXPECT_EQ(net.children().size(), 2u);
  EXPECT_EQ(net.blocks[1]->second->path(), "b1.second");
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad() && p.is_leaf());
}

TEST(Module, PathsFollowAConfigPathSetLater) {
  Net net;
  net.set_path("model.net");
  EXPECT_EQ(net.blocks[0]->first->path(), "model.net.b0.first");
  EXPECT_EQ(net.blocks[0]->first->where(), "Leaf 'model.net.b0.first'");
}

TEST(Module, RegistrationErrors) {
  Leaf leaf(2, 2, 1);
  EXPECT_NE(error_of([&] { leaf.register_parameter("weight", ops::zeros({1})); }).find("already taken"),
            std::string::npos);
  EXPECT_NE(error_of([&] { leaf.register_parameter("a.b", ops::zeros({1})); }).find("'.'"), std::string::npos);
  EXPECT_NE(error_of([&] { leaf.register_parameter("ids", ops::zeros({1}, DType::i64)); }).find("floating"),
            std::string::npos);
  Tensor x = ops::ones({2}).requires_grad_();
  EXPECT_NE(error_of([&] { leaf.register_parameter("y", gau::mul(x, 2.0)); }).find("leaf"), std::string::npos);
}

TEST(Module, TrainEvalIsRecursive) {
  Net net;
  EXPECT_TRUE(net.blocks[1]->second->is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net.blocks[1]->second->is_training());
  net.train();
  EXPECT_TRUE(net.blocks[0]->first->is_training());
}

TEST(Module, TiedParameterIsListedOnceAndCountedOnce) {
  struct Tied : Module {
    Tied() : Module("Tied") {
      a = register_module("a", std::make_shared<Leaf>(3, 4, 1));
      shared = register_parameter("shared", a->weight);
    }
    std::shared_ptr<Leaf> a;
    Tensor shared;
  } tied;
  EXPECT_EQ(names_of(tied.named_parameters()), (std::vector<std::string>{"shared", "a.bias"}))
      << "the tied weight appears once, under its first name in traversal order (own entries first)";
  EXPECT_EQ(tied.parameter_count(), 12 + 4);
  const StateDict sd = tied.state_dict();
  EXPECT_TRUE(sd.count("shared") && sd.count("a.weight"));
}

TEST(Module, ToCastsInPlaceKeepingMembersAndRequiresGrad) {
  Leaf leaf(3, 4, 1);
  const std::vector<double> before = test::values(leaf.weight);
  Tensor member = leaf.weight;  // a copy of the handle, as a layer keeps it
  leaf.weight.set_grad(ops::ones({4, 3}));
  leaf.to(Device::cpu(), DType::f64);
  EXPECT_EQ(member.dtype(), DType::f64);
  EXPECT_TRUE(member.requires_grad());
  EXPECT_EQ(member.grad().dtype(), DType::f64);
  test::expect_close(member, before, 1e-15, "weight after to(f64)");
  EXPECT_EQ(leaf.steps.dtype(), DType::i64) << "integer buffers keep their dtype";
  EXPECT_EQ(leaf.table.dtype(), DType::f64);
  // The moved parameter works in a graph.
  gau::sum(gau::mul(member, member)).backward();
  test::expect_close(
      member.grad(),
      [&] {
        std::vector<double> w = before;
        for (double& v : w) v = 1 + 2 * v;
        return w;
      }(),
      1e-12, "grad after to()");
}

TEST(Module, StateDictRoundTrip) {
  Net a, b;
  for (const Tensor& p : b.parameters()) ops::fill_(p, 0.5);
  const StateDict sd = a.state_dict();
  EXPECT_EQ(sd.size(), 10u + 4u) << "parameters and persistent buffers (not the tables)";
  EXPECT_FALSE(sd.count("b0.first.table"));
  b.load_state_dict(sd);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(test::values(pb[i].second), test::values(pa[i].second)) << pa[i].first;
}

TEST(Module, LoadStateDictListsEveryProblemAndLoadsNothing) {
  Net net;
  StateDict sd = net.state_dict();
  sd.erase("b0.scale");
  sd.erase("b1.first.bias");
  sd["b0.extra"] = ops::zeros({1});
  sd["b0.first.weight"] = ops::zeros({3, 4});
  sd["b1.second.bias"] = ops::zeros({2}, DType::f64);
  const std::vector<double> before = test::values(net.blocks[1]->second->weight);
  sd["b1.second.weight"] = ops::zeros({2, 4});  // would change the model if anything were loaded
  const std::string msg = error_of([&] { net.load_state_dict(sd); });
  for (const char* want : {"missing keys (2): b0.scale, b1.first.bias", "unexpected keys (1): b0.extra",
                           "b0.first.weight: the model has f32[4, 3] on cpu, the state dict f32[3, 4] on cpu",
                           "b1.second.bias: the model has f32[2] on cpu, the state dict f64[2] on cpu"})
    EXPECT_NE(msg.find(want), std::string::npos) << "missing '" << want << "' in:\n" << msg;
  EXPECT_EQ(test::values(net.blocks[1]->second->weight), before) << "changed by a failed load";
}

TEST(Module, ParameterCountsPerChild) {
  Net net;
  EXPECT_EQ(net.parameter_count(), 2 * (3 + 12 + 4 + 8 + 2));
  const auto rows = parameter_counts(net, 1);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "b0");
  EXPECT_EQ(rows[0].type_name, "Block");
  EXPECT_EQ(rows[0].parameters, 29);
  const auto deep = parameter_counts(net, 2);
  ASSERT_EQ(deep.size(), 6u);
  EXPECT_EQ(deep[0].parameters, 3) << "b0's own scale";
  EXPECT_EQ(deep[1].name, "b0.first");
  EXPECT_EQ(deep[1].parameters, 16);
  const std::string table = parameter_summary(net);
  EXPECT_NE(table.find("b1"), std::string::npos) << table;
  EXPECT_NE(table.find("58"), std::string::npos) << table;
}

TEST(Module, ForwardWithoutASingleInputFormIsAnError) {
  Leaf leaf(2, 2, 1);
  EXPECT_NE(error_of([&] { leaf.forward(ops::zeros({2})); }).find("Leaf has no single-input forward"),
            std::string::npos);
}

}  // namespace
}  // namespace gau::layers
