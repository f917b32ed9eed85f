#pragma once
// Checkpoints: one directory per saved step, written so that a crash at any moment leaves the
// previous checkpoint, and `latest`, intact.
//
//   <run>/checkpoints/step_000123/
//     model.safetensors       the model's state_dict (readable by Python's safetensors)
//     optimizer.safetensors   the optimizer's flat name -> tensor map (absent when empty)
//     state.json              step, the resolved config (YAML text), gau version, the trainer's
//                             own state (schedule, RNG, loader position, loss scale, ...) and
//                             the size and CRC-32C of each file above
//
// Saving writes everything into a hidden staging directory (each file to a temporary name,
// fsync'd, renamed), renames the directory into place, fsyncs checkpoints/, then points `latest`
// at it (trainers/run_dir.h) and prunes old checkpoints.
//
//   CheckpointState s{.step = 100, .config_yaml = yaml, .trainer = {{"rng", generator_state(g)}}};
//   save_checkpoint(run_dir, s, model, optimizer_state, {.keep_last = 3});
//   Checkpoint c = load_checkpoint(resolve_checkpoint(run_dir), model);   // weights into model
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/rng.h"
#include "layers/module.h"

namespace gau::trainers {

struct CheckpointState {
  int64_t step = 0;
  std::string config_yaml;  // the resolved config
  // The trainer's own keys ("schedule", "rng", "loader", "loss_scale", ...), stored at the top
  // level of state.json beside gau's. Must be an object; gau's keys (format_version,
  // gau_version, step, config, files) are reserved.
  nlohmann::json trainer = nlohmann::json::object();
};

struct Checkpoint {
  std::filesystem::path dir;
  CheckpointState state;
  std::string gau_version;      // of the gau that wrote it
  layers::StateDict model;      // on the CPU
  layers::StateDict optimizer;  // on the CPU; empty when none was saved
};

struct CheckpointOptions {
  // Keep the newest `keep_last` checkpoints (and always the one `latest` names); 0 keeps all.
  int keep_last = 0;
};

// Saves step `state.step` of `model` (and `optimizer`) under run_dir/checkpoints, updates
// `latest` and prunes; returns the checkpoint directory. Saving a step that exists replaces it
// atomically.
std::filesystem::path save_checkpoint(const std::filesystem::path& run_dir, const CheckpointState& state,
                                      const layers::Module& model, const layers::StateDict& optimizer = {},
                                      const CheckpointOptions& options = {});

// Reads a checkpoint directory, checking each file's size and CRC-32C against state.json. Errors
// name the checkpoint and the file.
Checkpoint read_checkpoint(const std::filesystem::path& dir);

// read_checkpoint, then copies the weights into `model`. A model of another config fails with
// the checkpoint's path and every missing key, unexpected key and shape mismatch.
Checkpoint load_checkpoint(const std::filesystem::path& dir, layers::Module& model);

// load_checkpoint for starting a new run from a trained one (train.init_from): each floating
// tensor is first converted to the dtype of the model's tensor of that name, so weights saved by
// a bf16 or fp16 run initialise an f32 model (which the trainer then casts to its precision).
Checkpoint load_checkpoint_converted(const std::filesystem::path& dir, layers::Module& model);

// Removes all but the newest `keep_last` complete checkpoints (never the one `latest` names),
// and staging directories left by crashed saves. keep_last = 0 removes only the latter.
void prune_checkpoints(const std::filesystem::path& run_dir, int keep_last);

// A Philox generator's position, {"seed": s, "offset": o}, and its restoration: together they
// make a resumed run draw the numbers the uninterrupted one would have.
nlohmann::json generator_state(const Generator& gen);
void restore_generator(Generator& gen, const nlohmann::json& state);

}  // namespace gau::trainers
