#pragma once
// The train: section: the training loop's own settings.
//
//   train: {steps: 2000, device: cuda:0, seed: 1, eval_every: 200, checkpoint_every: 500}
//
// `gau config --keys train` prints every key with its type, default and help.
#include <cstdint>
#include <string>

#include "trainers/config/schema.h"

namespace gau::config {

struct TrainOptions {
  int64_t steps = 1000;
  std::string device = "cpu";  // cpu | cuda | cuda:N
  int64_t seed = 1;
  int64_t threads = 0;  // 0: OpenMP's default
  int64_t eval_every = 500;
  int64_t eval_steps = 20;
  int64_t checkpoint_every = 1000;
  int64_t keep_checkpoints = 3;
  bool save_initial = false;  // also checkpoint the initial weights, as step 0
  int64_t log_every = 10;
  int64_t grad_accumulation = 1;
  double max_time_minutes = 0;  // 0: no limit
  double clip_norm = 1.0;         // 0: no clipping by global norm
  double clip_value = 0;          // 0: no clipping by value
  int64_t sample_tokens = 200;    // generated at the end of the run; 0: none
  std::string sample_prompt;      // "": the start of a document
  std::string run_dir;          // "": runs/<name>
  std::string name;             // "": the config file's name without .yaml
  std::string init_from;        // "": a fresh initialisation; else a checkpoint or run directory
};

const Section<TrainOptions>& train_section();

}  // namespace gau::config
