// Data-parallel training under mpirun (2 or 4 ranks): N ranks of batch B / N train exactly as one
// rank of batch B, with and without gradient accumulation; gradient buckets start during
// backward, also when ZeRO-1 reduces them to the shards' owners; ranks with different configs
// fail together instead of hanging.
#include "distributed/data_parallel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/rng.h"
#include "distributed/single_communicator.h"
#include "layers/models/language_model.h"
#include "layers/registry.h"
#include "optim/precision.h"
#include "tests/support/files.h"
#include "tests/distributed/mpi/training_runs.h"
#include "tests/support/mpi_main.h"
#include "trainers/checkpoint.h"
#include "trainers/trainer.h"

namespace gau::distributed {
namespace {

using ::testing::HasSubstr;
using namespace mpi_runs;

// fp32 tolerance on the weights after 10 AdamW steps at lr 1e-2: the ranks' gradients are summed
// in another order than one rank's, a rounding difference of ~1e-7 relative; Adam divides by
// sqrt(v), so where a gradient is tiny that difference reaches the update at lr scale. Measured
// 2026-12-02: worst 1.8e-5 with 2 ranks, 3.0e-5 with 4. Gradients reduced as a mean instead of
// a sum fail it.
constexpr double kTolerance = 1e-4;

TEST(DataParallel, NRanksEqualOneRankOfTheWholeBatch) {
  auto comm = world();
  const int n = comm->world_size();
  ASSERT_GT(n, 1) << "run under mpirun with 2 or more ranks";
  const auto dir = shared_dir("equivalence");
  trainers::TrainSummary parallel_run, single_run;
  const layers::StateDict parallel = train(config(16 / n), dir / "parallel", comm, {}, "", &parallel_run);
  if (comm->rank() == 0) {
    const layers::StateDict single =
        train(config(16), dir / "single", make_single_communicator(Device::cpu()), {}, "", &single_run);
    expect_close(parallel, single, kTolerance);
    // The evaluation too: each rank evaluates its rows of the global batch, the losses summed.
    ASSERT_TRUE(parallel_run.final_eval && single_run.final_eval);
    EXPECT_EQ(parallel_run.final_eval->targets, single_run.final_eval->targets);
    EXPECT_NEAR(parallel_run.final_eval->loss, single_run.final_eval->loss, 1e-4);
  }
  comm->barrier();
}

TEST(DataParallel, WithGradientAccumulation) {
  auto comm = world();
  const int n = comm->world_size();
  const auto dir = shared_dir("accumulation");
  const layers::StateDict parallel = train(config(8 / n), dir / "parallel", comm, {"train.grad_accumulation=2"});
  if (comm->rank() == 0) {
    const layers::StateDict single =
        train(config(16), dir / "single", make_single_communicator(Device::cpu()));
    expect_close(parallel, single, kTolerance);
  }
  comm->barrier();
}

TEST(DataParallel, FirstBucketStartsBeforeBackwardEnds) {
  auto comm = world();
  manual_seed(1);
  auto model = layers::build(YAML::Load("{type: language_model, vocab: 64, dim: 64, max_length: 16, layers: 3, "
                                        "blocks: {type: gau, s: 16}}"),
                             "model");
  layers::FlatParameters flat = optim::apply_precision(*model, optim::precision_policy(optim::Precision::fp32),
                                                       Device::cpu());
  DataParallel dp(comm, flat, "same config", {.bucket_mb = 0.02});
  ASSERT_GT(dp.buckets().size(), 2u);
  auto* lm = dynamic_cast<layers::LanguageModel*>(model.get());
  const Tensor ids = layers::example_token_ids(2, 16, 64, Device::cpu(), 5 + comm->rank());
  dp.start_backward(true);
  lm->loss(ids, ids).backward();
  dp.finish_backward();
  ASSERT_EQ(dp.launches().size(), dp.buckets().size());
  // The first bucket went out while most parameters' gradients were still to come.
  EXPECT_LT(dp.launches().front().hooks_fired, dp.hooks_total() / 2);
  EXPECT_EQ(dp.launches().front().bucket, 0u);
  // Every rank now holds the same gradients: rank 0's, broadcast, equal this rank's.
  for (const layers::FlatGroup& g : flat.groups()) {
    Tensor mine = ops::clone(g.grads);
    comm->broadcast(g.grads, 0)->wait();
    EXPECT_EQ(0, std::memcmp(mine.data_ptr(), g.grads.data_ptr(), mine.nbytes()));
  }
}

// ZeRO-1's reduction: the buckets still start during backward, and afterwards rank r's shard of
// each buffer holds the sum over ranks (against an all-reduce of the same local gradients),
// while the rest of its buffer keeps its own gradients.
TEST(DataParallel, ReducesToShardOwnersDuringBackward) {
  auto comm = world();
  const int n = comm->world_size();
  manual_seed(1);
  auto model = layers::build(YAML::Load("{type: language_model, vocab: 64, dim: 64, max_length: 16, layers: 3, "
                                        "blocks: {type: gau, s: 16}}"),
                             "model");
  layers::FlatParameters flat = optim::apply_precision(*model, optim::precision_policy(optim::Precision::fp32),
                                                       Device::cpu(), /*shards=*/n);
  DataParallel dp(comm, flat, "same config", {.bucket_mb = 0.02, .reduce_to_shard_owners = true});
  ASSERT_GT(dp.buckets().size(), 2u);
  auto* lm = dynamic_cast<layers::LanguageModel*>(model.get());
  const Tensor ids = layers::example_token_ids(2, 16, 64, Device::cpu(), 5 + comm->rank());

  dp.start_backward(false);  // local gradients only
  lm->loss(ids, ids).backward();
  dp.finish_backward();
  std::vector<Tensor> local, summed;
  for (const layers::FlatGroup& g : flat.groups()) {
    local.push_back(ops::clone(g.grads));
    summed.push_back(ops::clone(g.grads));
    comm->all_reduce(summed.back(), ReduceOp::sum)->wait();
  }

  flat.zero_grad();
  dp.start_backward(true);
  lm->loss(ids, ids).backward();
  dp.finish_backward();
  EXPECT_LT(dp.launches().front().hooks_fired, dp.hooks_total() / 2);
  for (size_t gi = 0; gi < flat.groups().size(); ++gi) {
    const Tensor& grads = flat.groups()[gi].grads;
    const int64_t shard = grads.numel() / n, begin = shard * comm->rank(), end = begin + shard;
    const float* got = grads.data<float>();
    const float* own = local[gi].data<float>();
    const float* sum = summed[gi].data<float>();
    int64_t wrong_sum = 0, wrong_rest = 0;
    for (int64_t i = 0; i < grads.numel(); ++i) {
      if (i >= begin && i < end)
        wrong_sum += std::fabs(got[i] - sum[i]) > 1e-6f * (1 + std::fabs(sum[i]));
      else
        wrong_rest += got[i] != own[i];
    }
    EXPECT_EQ(wrong_sum, 0) << "group " << gi << ": elements of this rank's shard that are not the sum";
    EXPECT_EQ(wrong_rest, 0) << "group " << gi << ": elements outside this rank's shard that changed";
  }
}

TEST(DataParallel, DifferentConfigsFailOnEveryRank) {
  auto comm = world();
  manual_seed(1);
  auto model = layers::build(YAML::Load("{type: language_model, vocab: 64, dim: 32, max_length: 16, layers: 1, "
                                        "blocks: {type: gau, s: 16}}"),
                             "model");
  layers::FlatParameters flat = optim::apply_precision(*model, optim::precision_policy(optim::Precision::fp32),
                                                       Device::cpu());
  const std::string text = comm->rank() == comm->world_size() - 1 ? "model: gau\noptim: {lr: 0.1}\n"
                                                                   : "model: gau\noptim: {lr: 0.2}\n";
  try {
    DataParallel dp(comm, flat, text);
    FAIL() << "no error on rank " << comm->rank();
  } catch (const Error& e) {
    const std::string last = std::to_string(comm->world_size() - 1);
    EXPECT_THAT(e.what(), HasSubstr("the resolved config of rank(s) " + last + " differs from rank 0's; first at line 2 "
                                    "of the resolved config: rank 0 has 'optim: {lr: 0.2}', rank " + last +
                                    " 'optim: {lr: 0.1}'"));
  }
}

}  // namespace
}  // namespace gau::distributed

int main(int argc, char** argv) { return gau::test::run_tests_on_every_rank(argc, argv); }
