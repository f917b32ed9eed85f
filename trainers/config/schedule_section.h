#pragma once
// The schedule: section: the learning rate over the steps, with optim/schedule.h's keys (type,
// warmup_steps, total_steps, min_lr or min_ratio, timescale), and one difference: a cosine or
// linear schedule may leave total_steps out, and then decays over train.steps.
//
//   schedule: {type: cosine, warmup_steps: 50, min_ratio: 0.1}     # total_steps: train.steps
//
// The section checks its keys without train.steps or the optimizer's lr, which other sections
// hold, and keeps total_steps out of the resolved config when it was not written (so a dump
// still follows train.steps). The trainer builds the schedule once both are known:
//
//   optim::Schedule s = build_schedule(resolved["schedule"], optimizer->lr(), train.steps);
#include <yaml-cpp/yaml.h>

#include <cstdint>

#include "optim/schedule.h"

namespace gau::config {

// The schedule of a resolved schedule: section for the base lr `base_lr`, with total_steps
// `train_steps` where the section leaves it out. Errors name the key: a min_lr above base_lr, or
// train_steps not above warmup_steps.
optim::Schedule build_schedule(const YAML::Node& resolved_schedule, double base_lr, int64_t train_steps);

}  // namespace gau::config
