#include "distributed/zero.h"

#include <string>

#include "core/error.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"

namespace gau::distributed {

ZeroSharding::ZeroSharding(std::shared_ptr<Communicator> comm, const layers::FlatParameters& flat)
    : comm_(std::move(comm)), flat_(flat) {
  GAU_CHECK(comm_ != nullptr, "ZeRO-1: no communicator");
  const int world = comm_->world_size();
  for (const layers::FlatGroup& g : flat.groups()) {
    GAU_CHECK(g.params.numel() % world == 0, "ZeRO-1: a flat ", dtype_name(g.dtype), " buffer of ", g.params.numel(),
              " elements does not split into ", world, " equal shards; flatten with FlatOptions::shards = ", world);
    param_scratch_.push_back(ops::empty({shard_numel(g)}, g.dtype, g.device));
  }
}

optim::Shard ZeroSharding::shard() const { return {.index = comm_->rank(), .count = comm_->world_size()}; }

std::vector<Tensor> ZeroSharding::gradient_shards() const {
  std::vector<Tensor> shards;
  for (const layers::FlatGroup& g : flat_.groups())
    shards.push_back(ops::slice(g.grads, 0, shard_begin(g), shard_begin(g) + shard_numel(g)));
  return shards;
}

void ZeroSharding::all_gather_parameters() {
  const auto& groups = flat_.groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    const layers::FlatGroup& g = groups[i];
    ops::copy_(param_scratch_[i], ops::slice(g.params, 0, shard_begin(g), shard_begin(g) + shard_numel(g)));
    comm_->all_gather(g.params, param_scratch_[i])->wait();
    g.params.bump_version();
  }
}

const layers::FlatGroup& ZeroSharding::group_of(const std::string& key) const {
  const size_t dot = key.find('.', 7);
  GAU_CHECK(key.rfind("groups.", 0) == 0 && dot != std::string::npos, "ZeRO-1: unexpected optimizer state '", key, "'");
  const size_t i = std::stoul(key.substr(7, dot - 7));
  GAU_CHECK(i < flat_.groups().size(), "ZeRO-1: optimizer state '", key, "' names group ", i, " of ",
            flat_.groups().size());
  return flat_.groups()[i];
}

optim::OptimizerState ZeroSharding::gather_state(const optim::OptimizerState& shard) const {
  optim::OptimizerState full = shard;
  // std::map: every rank walks the same keys in the same order, so the collectives match.
  for (auto& [key, t] : full.tensors) {
    const layers::FlatGroup& g = group_of(key);
    GAU_CHECK(t.numel() == shard_numel(g), "ZeRO-1: optimizer state '", key, "' is ", describe(t), ", expected ",
              shard_numel(g), " elements (one shard)");
    Tensor gathered = ops::empty({g.params.numel()}, t.dtype(), t.device());
    comm_->all_gather(gathered, t)->wait();
    t = ops::clone(ops::slice(gathered, 0, 0, g.packed));
  }
  return full;
}

optim::OptimizerState ZeroSharding::shard_state(const optim::OptimizerState& full) const {
  optim::OptimizerState shard = full;
  for (auto& [key, t] : shard.tensors) {
    const layers::FlatGroup& g = group_of(key);
    GAU_CHECK(t.numel() == g.packed, "ZeRO-1: optimizer state '", key, "' is ", describe(t), ", expected ", g.packed,
              " elements (the unsharded state)");
    Tensor padded = ops::zeros({g.params.numel()}, t.dtype(), g.device);
    ops::copy_(ops::slice(padded, 0, 0, g.packed), t);
    t = ops::clone(ops::slice(padded, 0, shard_begin(g), shard_begin(g) + shard_numel(g)));
  }
  return shard;
}

double ZeroSharding::sum_over_ranks(double value) const {
  Tensor t = ops::from_vector(std::vector<double>{value}, {1}, comm_->device());
  comm_->all_reduce(t, ReduceOp::sum)->wait();
  return ops::to_device(t, Device::cpu()).data<double>()[0];
}

bool ZeroSharding::any_over_ranks(bool value) const { return sum_over_ranks(value ? 1.0 : 0.0) > 0; }

}  // namespace gau::distributed
