#pragma once
// What the data-parallel and ZeRO-1 tests under mpirun share: the tests' MPI world as the trainer
// takes it, a tiny recall config with a chosen per-rank batch, a training run that returns its
// final weights, a directory every rank sees, and a tolerance comparison of two state dicts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "distributed/communicator.h"
#include "tests/support/files.h"
#include "tests/support/mpi_main.h"
#include "trainers/checkpoint.h"
#include "trainers/trainer.h"

namespace gau::distributed::mpi_runs {

// The tests' MPI world (tests/support/mpi_main.h), as the trainer takes it; not owned.
inline std::shared_ptr<Communicator> world() {
  return std::shared_ptr<Communicator>(&test::world(), [](Communicator*) {});
}

// The recall task of tests/trainers/trainer_test.cpp; the global batch is 16 rows.
inline std::string config(int64_t rows_per_rank) {
  return R"(model:
  type: language_model
  vocab: 16
  dim: 32
  max_length: 16
  blocks: {type: gau, e: 64, s: 16, kernel: softmax, scale: inv_sqrt_s}
  layers: 2
data:
  source: synthetic
  task: {type: associative_recall, vocab_size: 16, pairs: 2, queries: 1, train_examples: 2000, val_examples: 64}
  seq_len: 7
  batch_size: )" +
         std::to_string(rows_per_rank) + R"(
optim: {type: adamw, lr: 0.01, weight_decay: 0.01}
train: {steps: 10, seed: 3, threads: 1, eval_every: 0, eval_steps: 2, checkpoint_every: 0, log_every: 1, sample_tokens: 0}
distributed: {bucket_mb: 0.01}
logging: {progress: lines, tensorboard: false}
)";
}

// Trains `text` with `comm` into `dir` and returns the final checkpoint's weights (and, with
// `summary`, the run's summary).
inline layers::StateDict train(const std::string& text, const std::filesystem::path& dir, std::shared_ptr<Communicator> comm,
                        const std::vector<std::string>& overrides = {}, const std::string& resume = "",
                        trainers::TrainSummary* summary = nullptr) {
  // Every rank writes its own copy of the config; rank 0's run directory is shared through the path.
  const std::filesystem::path file = dir.parent_path() / ("config_" + std::to_string(comm->rank()) + ".yaml");
  test::write_bytes(file, text);
  std::FILE* log = std::tmpfile();
  trainers::TrainRequest r{.config_file = resume.empty() ? file.string() : "",
                           .overrides = overrides,
                           .resume = resume,
                           .run_dir = resume.empty() ? dir.string() : "",
                           .log = log,
                           .communicator = comm};
  trainers::Trainer t(r);
  const trainers::TrainSummary s = t.run();
  if (summary) *summary = s;
  std::fclose(log);
  comm->barrier();
  return trainers::read_checkpoint(s.checkpoint).model;
}

// A directory all ranks share: rank 0's temporary directory, by broadcast of its name's number.
inline std::filesystem::path shared_dir(const std::string& name) {
  auto comm = world();
  Tensor stamp = ops::from_vector(std::vector<int64_t>{static_cast<int64_t>(::getpid())}, {1});
  comm->broadcast(stamp, 0)->wait();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("gau_mpi_runs_" + std::to_string(stamp.data<int64_t>()[0])) / name;
  if (comm->rank() == 0) std::filesystem::create_directories(dir);
  comm->barrier();
  return dir;
}

// Every tensor of `a` within `tol` of `b`'s, elementwise.
inline void expect_close(const layers::StateDict& a, const layers::StateDict& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    const Tensor x = ops::to_dtype(t, DType::f64), y = ops::to_dtype(b.at(name), DType::f64);
    double worst = 0;
    for (int64_t i = 0; i < x.numel(); ++i)
      worst = std::max(worst, std::abs(x.data<double>()[i] - y.data<double>()[i]));
    EXPECT_LE(worst, tol) << name;
  }
}

}  // namespace gau::distributed::mpi_runs
