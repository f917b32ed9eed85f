// Sharded optimizers (OptimizerOptions::shard, ZeRO-1's per-rank piece) in one process: the
// optimizers of all N shards of one flat buffer, stepped one after another, update exactly as
// one unsharded optimizer; each holds 1/N of the state; LAMB and Adafactor refuse to shard.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "core/error.h"
#include "layers/flat_parameters.h"
#include "optim/adafactor.h"
#include "optim/adam.h"
#include "optim/lamb.h"
#include "optim/lion.h"
#include "optim/sgd.h"
#include "tests/optim/problem.h"

namespace gau::optim {
namespace {

using ::testing::HasSubstr;

// The parameters' elements of `group`'s buffer, the alignment gaps and padding left out.
std::vector<double> parameter_values(const layers::FlatGroup& group) {
  const std::vector<double> all = gau::test::values(group.params);
  std::vector<double> out;
  for (const layers::FlatEntry& e : group.entries)
    out.insert(out.end(), all.begin() + e.offset, all.begin() + e.offset + e.numel);
  return out;
}

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(layers::FlatParameters&, const OptimizerOptions&)>;

// The parameters after 5 steps of one optimizer over the whole buffer, and of `shards`
// optimizers, one per shard of a padded buffer, each step taken by all of them in turn.
void expect_shards_match_whole(DType dtype, int64_t shards, const MakeOptimizer& make) {
  test::Problem whole_model(dtype);
  layers::FlatParameters whole(whole_model, {.grad_dtype = DType::f32});
  const std::unique_ptr<Optimizer> unsharded = make(whole, {});
  test::Problem model(dtype);
  layers::FlatParameters flat(model, {.grad_dtype = DType::f32, .shards = shards});
  std::vector<std::unique_ptr<Optimizer>> pieces;
  for (int64_t k = 0; k < shards; ++k) pieces.push_back(make(flat, {.shard = {.index = k, .count = shards}}));
  for (int t = 0; t < 5; ++t) {
    test::set_gradients(whole_model);
    unsharded->step();
    test::set_gradients(model);
    for (auto& p : pieces) p->step();
  }
  EXPECT_EQ(parameter_values(flat.groups()[0]), parameter_values(whole.groups()[0]));
  // Each piece holds 1/shards of the state of the padded buffer.
  const int64_t whole_numel = whole.groups()[0].params.numel(), padded_numel = flat.groups()[0].params.numel();
  for (auto& p : pieces) EXPECT_EQ(p->state_bytes() * shards * whole_numel, unsharded->state_bytes() * padded_numel);
}

TEST(ShardedOptimizer, FlatBuffersPadToEqualAlignedShards) {
  test::Problem model;
  // f32 aligns to 16 elements: lin.weight [35] at 0, lin.bias [5] at 48, proj.weight [12] at 64.
  layers::FlatParameters flat(model, {.shards = 3});
  const layers::FlatGroup& g = flat.groups()[0];
  EXPECT_EQ(g.packed, 80);
  EXPECT_EQ(g.params.numel(), 96);  // 3 shards of 32
  EXPECT_EQ(g.grads.numel(), 96);
  EXPECT_EQ(layers::FlatParameters(model).groups()[0].packed, 80);
}

TEST(ShardedOptimizer, ShardsTogetherUpdateAsTheWhole) {
  for (const int64_t shards : {2, 3, 4}) {
    SCOPED_TRACE(shards);
    expect_shards_match_whole(DType::f32, shards, [](layers::FlatParameters& f, const OptimizerOptions& o) {
      OptimizerOptions with_groups = o;
      with_groups.groups.no_decay = {"*.bias"};
      return std::make_unique<Adam>(f, AdamOptions{.lr = 0.01, .weight_decay = 0.1, .decoupled = true}, with_groups);
    });
    expect_shards_match_whole(DType::f32, shards, [](layers::FlatParameters& f, const OptimizerOptions& o) {
      return std::make_unique<Sgd>(f, SgdOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true}, o);
    });
    expect_shards_match_whole(DType::f32, shards, [](layers::FlatParameters& f, const OptimizerOptions& o) {
      return std::make_unique<Lion>(f, LionOptions{.lr = 0.01, .weight_decay = 0.1}, o);
    });
    // bf16 parameters: each shard keeps the f32 master weights of its piece only.
    expect_shards_match_whole(DType::bf16, shards, [](layers::FlatParameters& f, const OptimizerOptions& o) {
      return std::make_unique<Adam>(f, AdamOptions{.lr = 0.01}, o);
    });
  }
}

TEST(ShardedOptimizer, StateDictHoldsTheShardWithTheFullLayout) {
  test::Problem model;
  layers::FlatParameters flat(model, {.shards = 2});
  const Adam opt(flat, {}, {.shard = {.index = 1, .count = 2}});
  const OptimizerState s = opt.state_dict();
  EXPECT_EQ(s.tensors.at("groups.0.exp_avg").numel(), 48);
  EXPECT_EQ(s.layout[0].total, 80);  // packed: the same as without shards
  EXPECT_EQ(s.layout[0].names.size(), 3u);
}

TEST(ShardedOptimizer, LambAndAdafactorRefuseToShard) {
  test::Problem model;
  layers::FlatParameters flat(model, {.shards = 2});
  const OptimizerOptions half{.shard = {.index = 0, .count = 2}};
  try {
    Lamb lamb(flat, {}, half);
    FAIL() << "lamb sharded";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("lamb: its state cannot be sharded (ZeRO-1, here over 2 ranks)"));
  }
  EXPECT_THROW(Adafactor(flat, {}, half), Error);
  // A buffer not padded for the shards.
  layers::FlatParameters unpadded(model);
  try {
    Adam adam(unpadded, {}, {.shard = {.index = 0, .count = 3}});
    FAIL() << "an unpadded buffer sharded";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not split into 3 equal shards; flatten with FlatOptions::shards = 3"));
  }
}

}  // namespace
}  // namespace gau::optim
