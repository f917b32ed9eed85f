#pragma once
// The logging:, precision: and distributed: sections: how a run reports, which number format it
// trains in, and how its processes talk (the code using distributed: comes with data-parallel
// training; its keys are fixed here so configs can carry them).
//
//   logging: {progress: auto, tensorboard: true, metrics: true}
//   precision: bf16                     (short for precision: {dtype: bf16})
//   distributed: {backend: auto, bucket_mb: 25, zero: 1, timeout_s: 300}
#include <cstdint>
#include <string>

#include "trainers/config/schema.h"

namespace gau::config {

struct LoggingOptions {
  std::string progress = "auto";  // auto | bar | lines
  bool tensorboard = true;
  bool metrics = true;
};

struct PrecisionOptions {
  std::string dtype = "fp32";  // fp32 | bf16 | fp16
  // fp16's dynamic loss scaling (optim/loss_scaler.h); the defaults are LossScalerOptions'.
  double loss_scale_init = 65536;
  double loss_scale_growth = 2;
  double loss_scale_backoff = 0.5;
  int64_t loss_scale_growth_interval = 2000;
  // A skipped step that takes the scale below this stops the run: the model has diverged (every
  // step overflows), and halving on for ever would train nothing. 0: never stop.
  double min_loss_scale = 1e-4;
};

struct DistributedOptions {
  std::string backend = "auto";  // auto | mpi | nccl
  double bucket_mb = 25;
  int64_t zero = 0;  // 0: replicated optimizer state; 1: ZeRO-1, sharded across ranks
  double timeout_s = 300;
};

const Section<LoggingOptions>& logging_section();
const Section<PrecisionOptions>& precision_section();
const Section<DistributedOptions>& distributed_section();

}  // namespace gau::config
