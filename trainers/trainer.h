#pragma once
// The training loop: everything a resolved config describes (model, data, optimizer, schedule,
// precision, clipping, logging), joined into steps, with evaluation, checkpoints, resume,
// signals and a non-finite-loss stop.
//
//   TrainRequest req{.config_file = "configs/default.yaml", .overrides = {"train.steps=100"}};
//   Trainer trainer(req);          // builds it all, or resumes (req.resume = "runs/default")
//   TrainSummary s = trainer.run();
//
// One step (optim/accumulation.h, optim/loss_scaler.h):
//   lr = schedule(step); for each of k micro-batches: loss_i · n_i / N (token-weighted),
//   · S under fp16, backward into the flat f32 gradient buffers; [fp16: unscale, skip on inf];
//   clip; optimizer step; zero the gradients.
// Every `eval_every` steps the validation split is evaluated; every `checkpoint_every` steps, at
// the end, at the time limit and on SIGINT/SIGTERM a checkpoint is written (trainers/checkpoint.h)
// holding the weights, the optimizer's state, the RNGs, the loader's position and the loss
// scale, so a resumed run continues bit for bit on the CPU: the same steps as if it had never
// stopped. A NaN or infinite loss or gradient norm (without fp16, which skips such steps)
// stops the run with an error naming the step and the last good checkpoint.
//
// Data parallel (distributed/data_parallel.h): under mpirun every rank runs this loop on its own
// shard of each step's batches (rank r reads rows [r b, (r + 1) b) of the step's world_size · b),
// its loss weighted by its share of the global token count, the gradients summed across ranks as
// backward produces them; so N ranks of batch b train exactly as one of batch N b. Rank 0 alone
// writes the run directory, metrics, checkpoints and progress. A stop (signal, time limit) is
// agreed across ranks each step, and an error on any rank aborts all of them at once. With
// distributed.zero: 1 (distributed/zero.h) each gradient bucket is reduced to the ranks owning
// its pieces instead, as backward produces it; each rank updates its shard of the parameters from
// its shard of the optimizer state, and the parameters are all-gathered; a checkpoint holds the
// gathered, unsharded state.
//
// A run that fails before its first step (a bad data path, a checkpoint that does not fit)
// leaves no trace: a new run's directory is removed again, and a resumed run's config.yaml is
// only rewritten (with the --set values) once the resume has succeeded.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "trainers/evaluate.h"

namespace gau::trainers {

struct TrainRequest {
  std::string config_file;             // a new run's config ("" when resuming)
  std::vector<std::string> overrides;  // "key.path=value", over the config (a resumed run's too)
  std::string resume;                  // a run directory to continue from its latest checkpoint
  std::string run_dir;                 // a new run's directory, over train.run_dir
  std::FILE* log = stderr;             // progress, evaluations and checkpoints
  std::optional<bool> tty;             // default: whether `log` is a terminal (logging.progress: auto)
  // The ranks of a data-parallel run; null: make_communicator from the distributed: section (a
  // world of one unless launched by mpirun or srun).
  std::shared_ptr<distributed::Communicator> communicator;
};

struct TrainSummary {
  std::filesystem::path run_dir;
  std::filesystem::path checkpoint;  // the last one written
  int64_t start_step = 0;            // > 0 when resumed
  int64_t step = 0;                  // steps done in all, this run's and before
  int64_t steps = 0;                 // train.steps
  std::optional<EvalResult> final_eval;
  bool byte_level = false;  // the data are bytes: bits per token are bits per byte
  bool generates = false;   // a language model with a tokenizer: gau generate can prompt it
  bool evaluates = false;   // the data have a validation split: gau eval has something to read
  bool metrics = true;      // metrics.jsonl written (logging.metrics)
  bool tensorboard = true;  // event files written (logging.tensorboard)
  double tokens_per_s = 0;  // over this run's steps
  double seconds = 0;       // this run's wall time
  std::string stop_reason;  // "steps", "time limit", "SIGINT", "SIGTERM", "already done" (a resumed
                            // run that had all its train.steps: nothing was trained or written)
  std::string sample;       // the end-of-run sample (prompt included), "" when none
  std::string sample_prompt;  // train.sample_prompt, for the closing hint
  std::vector<double> losses;  // the training loss of each step of this run (over all ranks)
  int64_t skipped_steps = 0;   // steps of this run that fp16's loss scaler skipped (inf/nan gradients)
  int rank = 0;                // this process's rank: only rank 0 writes and reports
  int world_size = 1;
};

class Trainer {
 public:
  explicit Trainer(const TrainRequest& request);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;
  TrainSummary run();

 private:
  struct State;
  // run() but for what an error does: under data parallel it aborts every rank at once, since
  // the others would wait for this one in their next collective until the timeout.
  TrainSummary train_and_report();
  std::unique_ptr<State> s_;
};

}  // namespace gau::trainers
