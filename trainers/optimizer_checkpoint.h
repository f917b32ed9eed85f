#pragma once
// An optimizer's state in a checkpoint: its buffers (moments, master weights) go to
// optimizer.safetensors, and the rest (type, step count, lr, hyperparameters and the layout the
// buffers were made over) to state.json under "optimizer", so that Python's safetensors reads the
// tensors and loading checks the layout before a single value is copied.
//
//   CheckpointState s;  s.trainer["optimizer"] = optimizer_meta(opt.state_dict());
//   save_checkpoint(run, s, model, optimizer_tensors(opt.state_dict()));
//   opt.load_state_dict(optimizer_state_from(c.state.trainer.at("optimizer"), c.optimizer));
#include <nlohmann/json.hpp>

#include "layers/module.h"
#include "optim/optimizer.h"

namespace gau::trainers {

// {"type", "step", "lr", "hyperparameters" (YAML text), "layout": [{dtype, total, names, offsets, numels}]}
nlohmann::json optimizer_meta(const optim::OptimizerState& state);
// The state's tensors by their names ("groups.<i>.<buffer>").
layers::StateDict optimizer_tensors(const optim::OptimizerState& state);
// The two joined again. Throws gau::Error naming a missing or mistyped field.
optim::OptimizerState optimizer_state_from(const nlohmann::json& meta, const layers::StateDict& tensors);

}  // namespace gau::trainers
