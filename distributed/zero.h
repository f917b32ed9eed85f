#pragma once
// ZeRO-1 (Rajbhandari et al. 2020, stage 1): the optimizer state sharded across the ranks of a
// data-parallel run, `distributed.zero: 1`.
//
//   FlatParameters flat = apply_precision(model, policy, device, /*shards=*/world);  // padded
//   DataParallel dp(comm, flat, config, {.reduce_to_shard_owners = true});
//   ZeroSharding zero(comm, flat);
//   auto opt = make_optimizer(r, flat, zero.shard());   // state for this rank's shard only
//   dp.start_backward(true);
//   loss.backward();      // each bucket is reduced to the ranks owning its pieces, as it fills
//   dp.finish_backward(); // shard r of grads = Σ over ranks on rank r
//   clip_gradients(zero.gradient_shards(), clip, [&](double s) { return zero.sum_over_ranks(s); });
//   opt->step();                                         // updates shard r of the parameters
//   zero.all_gather_parameters();                        // every rank holds all of them again
//
// Shards: each flat group's buffer is cut into world_size equal contiguous pieces, rank r owning
// piece r (FlatOptions::shards pads the buffer so it splits evenly and every piece starts
// aligned). A piece may cut through a parameter, so only elementwise optimizers shard
// (optim/optimizer.h). Per rank the optimizer state is about 1/world_size of the unsharded one.
//
// Communication per step: during backward, DataParallel's buckets, each reduced (not
// all-reduced) to the owners of its pieces, overlapped with the rest of backward as
// DataParallel's all-reduces are (distributed/data_parallel.h); after the update, one all_gather
// of each parameter buffer, through a scratch buffer of one shard (its out and in must not
// overlap). Together the same bytes as DataParallel's all-reduce, which is a reduce-scatter plus
// an all-gather. With gradient accumulation the gradients accumulate locally and only the last
// micro-batch communicates.
//
// Checkpoints: gather_state turns the shards' state dicts into the unsharded one (tensors over
// the group's packed elements, without the padding), so a checkpoint does not depend on the world
// size; shard_state cuts an unsharded state dict into this rank's shard, whatever world size it
// was written with.
//
// Known difference: stochastic rounding of bf16/f16 parameters draws its random bits from the
// element's index within the shard, so that stream (not its statistics) depends on the world size.
#include <memory>
#include <vector>

#include "distributed/communicator.h"
#include "layers/flat_parameters.h"
#include "optim/optimizer.h"

namespace gau::distributed {

class ZeroSharding {
 public:
  // `flat`'s buffers must split into comm->world_size() equal pieces (FlatOptions::shards).
  ZeroSharding(std::shared_ptr<Communicator> comm, const layers::FlatParameters& flat);

  // This rank's shard, for OptimizerOptions::shard.
  optim::Shard shard() const;
  // Views of this rank's shard of every group's gradient buffer: what the optimizer updates from,
  // once DataParallel (reduce_to_shard_owners) has summed it over ranks. The rest of the buffer
  // keeps this rank's own gradients (stale; zero_grad clears them).
  std::vector<Tensor> gradient_shards() const;
  // Every rank's shard of every group's parameter buffer, gathered into every rank's buffer.
  void all_gather_parameters();

  // A collective: the state dicts of every rank's sharded optimizer -> the unsharded state dict,
  // on every rank.
  optim::OptimizerState gather_state(const optim::OptimizerState& shard) const;
  // An unsharded state dict -> this rank's shard of it (no communication).
  optim::OptimizerState shard_state(const optim::OptimizerState& full) const;

  // Collectives over one value, for the global gradient norm and the loss scaler's verdict.
  double sum_over_ranks(double value) const;
  bool any_over_ranks(bool value) const;

 private:
  // The flat group a state tensor "groups.<i>.<name>" belongs to.
  const layers::FlatGroup& group_of(const std::string& key) const;
  int64_t shard_numel(const layers::FlatGroup& g) const { return g.params.numel() / comm_->world_size(); }
  int64_t shard_begin(const layers::FlatGroup& g) const { return shard().begin(g.params.numel()); }

  std::shared_ptr<Communicator> comm_;
  const layers::FlatParameters& flat_;
  std::vector<Tensor> param_scratch_;  // per group [shard numel]
};

}  // namespace gau::distributed
