#pragma once
// The run directory: everything one training run writes, in one place.
//
//   runs/<name>/
//     config.yaml                         the resolved config the run was started with
//     metrics.jsonl                       one JSON object per line (trainers/metrics.h)
//     events.out.tfevents.<time>.<host>   the same scalars for TensorBoard
//     checkpoints/step_000123/            model.safetensors, optimizer.safetensors, state.json
//     latest                              "checkpoints/step_000123": the newest complete one
//     tokenizer.model                     a sentencepiece run's tokenizer: trained here, or a copy
//                                         of the model file it loads (trainers/data/dataset.h)
//
// `latest` is replaced atomically after a checkpoint is complete, so it always names a
// checkpoint that loads (trainers/checkpoint.h).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gau::trainers {

class RunDir {
 public:
  // Creates `path` and its checkpoints/ when missing and writes config.yaml. A directory that
  // already holds a run (a config.yaml) is an error: a new run never writes into an old one.
  static RunDir create(const std::filesystem::path& path, std::string_view config_yaml);
  // Undoes create() for a run that failed before its first step, so that the same command,
  // corrected, can be run again: removes the directory when create() made it, and otherwise
  // only what was not there before create() (config.yaml, checkpoints/, metrics, and a
  // tokenizer.model, which the corrected run would read in place of its config's).
  void discard_unstarted() const;
  // An existing run (a directory with config.yaml), to resume or evaluate.
  static RunDir open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path config_path() const { return path_ / "config.yaml"; }
  std::filesystem::path metrics_path() const { return path_ / "metrics.jsonl"; }
  std::filesystem::path checkpoints_dir() const { return path_ / "checkpoints"; }
  std::filesystem::path latest_path() const { return path_ / "latest"; }
  std::filesystem::path tokenizer_path() const { return path_ / "tokenizer.model"; }
  // The text of config.yaml.
  std::string config_yaml() const;

 private:
  explicit RunDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  bool made_directory_ = false;           // create() made path_ itself
  std::vector<std::filesystem::path> found_;  // otherwise, the names that were in it before
};

// <runs_root>/<name>, or <name>-2, <name>-3, ... when that exists already.
std::filesystem::path new_run_path(const std::filesystem::path& runs_root, const std::string& name);

// "step_000123": six digits at least, so that names sort by step up to a million steps.
std::string checkpoint_dir_name(int64_t step);

// The complete checkpoints of a run (checkpoints/step_N with a state.json), by increasing step.
// Partial ones left by a crash are not listed.
std::vector<std::pair<int64_t, std::filesystem::path>> list_checkpoints(const std::filesystem::path& run_dir);

// The checkpoint `latest` names; nullopt when the run has no `latest` file. A `latest` naming a
// missing directory is an error.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& run_dir);

// Points `latest` at `checkpoint` (a directory under run_dir/checkpoints): written to a temporary
// file, fsync'd, renamed over `latest`, and the directory fsync'd.
void set_latest(const std::filesystem::path& run_dir, const std::filesystem::path& checkpoint);

// What `gau eval|generate RUN_DIR|CHECKPOINT` loads: a checkpoint directory (one with a
// state.json) as given; for a run directory, the one `latest` names, or its newest complete
// checkpoint when `latest` is missing (a crash between the first checkpoint and its pointer).
std::filesystem::path resolve_checkpoint(const std::filesystem::path& run_or_checkpoint);

}  // namespace gau::trainers
