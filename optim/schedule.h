#pragma once
// Learning-rate schedules: a pure function of the step count, so a resumed run continues exactly.
//
//   Schedule s = make_schedule(reader, /*base_lr=*/3e-4);   // reader on the schedule: section
//   double lr = s.lr_at(step);                                // step 0, 1, 2, ...
//
// With base lr η, warmup W (warmup_steps), total T (total_steps) and floor η_min (min_lr, or
// min_ratio · η; 0 when neither is given):
//
//   warmup, s < W:   lr(s) = η · (s + 1) / W              reaches η at s = W - 1, never 0
//   then, s >= W, with the decay's progress p = min((s - W) / (T - W), 1):
//     constant:      lr(s) = η
//     cosine:        lr(s) = η_min + (η - η_min) · (1 + cos(π p)) / 2
//     linear:        lr(s) = η - (η - η_min) · p
//     inverse_sqrt:  lr(s) = η · sqrt(τ / (τ + s - W)),   τ = timescale, default max(W, 1)
//                    (with the default τ = W this is η · sqrt(W / s), the Transformer's rule)
//   Past T, cosine and linear stay at η_min.
//
// s counts the updates already made: lr(s) is the rate of update s + 1, the one that metrics.jsonl
// logs at step s + 1. So with T = train.steps (the trainer's default) the last update runs at
// lr(T - 1), one step short of the floor, as PyTorch's schedulers stepped after each update do.
//
// Linear warmup on its own is {type: constant, warmup_steps: W}.
//
// Config (the keys a type does not use are unknown-key errors):
//   {type: cosine, warmup_steps: 2000, total_steps: 100000, min_ratio: 0.1}
//   type           constant | cosine | linear | inverse_sqrt          (default constant)
//   warmup_steps   >= 0                                               (default 0)
//   total_steps    cosine, linear: required, > warmup_steps
//   min_lr         cosine, linear: the floor, in [0, base_lr]         (default 0)
//   min_ratio      cosine, linear: the floor as a fraction of base_lr, in [0, 1]; not with min_lr
//   timescale      inverse_sqrt: τ > 0                                (default max(W, 1))
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "layers/config_reader.h"

namespace gau::optim {

enum class ScheduleType { constant, cosine, linear, inverse_sqrt };
const char* schedule_name(ScheduleType type);

struct ScheduleOptions {
  ScheduleType type = ScheduleType::constant;
  double base_lr = 1e-3;     // η
  int64_t warmup_steps = 0;  // W
  int64_t total_steps = 0;   // T: cosine and linear only
  double min_lr = 0;         // η_min: cosine and linear only
  double timescale = 0;      // τ: inverse_sqrt only; 0 means max(W, 1)
};

class Schedule {
 public:
  // Checks the options (the same rules as the config keys), naming the bad one.
  explicit Schedule(const ScheduleOptions& options);

  // The learning rate of optimizer step `step` (>= 0).
  double lr_at(int64_t step) const;
  const ScheduleOptions& options() const { return options_; }
  // The config that rebuilds this schedule (min_lr as a number, whichever way it was given).
  YAML::Node config() const;

 private:
  ScheduleOptions options_;
};

// Reads the schedule's keys from `r` (the schedule map: a config's top-level schedule: section,
// whose total_steps the trainer fills in from train.steps, trainers/config/schedule_section.h)
// and checks that none is left unread.
Schedule make_schedule(layers::ConfigReader& r, double base_lr);

}  // namespace gau::optim
