#pragma once
// Training metrics, to metrics.jsonl and to TensorBoard.
//
// metrics.jsonl holds one JSON object per line, written (unbuffered) before log_* returns:
//   {"kind":"train","step":100,"time":1700000000.123,"loss":2.31,"lr":0.0003,"grad_norm":0.91,
//    "tokens_per_s":41000.0,"peak_memory_bytes":123456789,"loss_scale":1.0}
//   {"kind":"eval","step":100,"time":...,"split":"val","loss":2.40,"bits_per_byte":1.21}
// ("time" is seconds since the Unix epoch; a NaN or infinite value is written as null.) The
// same scalars go to the event file as "train/loss", ..., "eval/val/loss", ...
//
//   MetricsWriter metrics(run.path(), {.resume_step = checkpoint.state.step});
//   metrics.log_train({.step = s, .loss = l, .lr = lr, ...});
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainers/tfevents.h"

namespace gau::trainers {

struct TrainMetrics {
  int64_t step = 0;
  double loss = 0;
  double lr = 0;
  double grad_norm = 0;
  double tokens_per_s = 0;
  int64_t peak_memory_bytes = 0;
  double loss_scale = 1;
};

using Scalars = std::vector<std::pair<std::string, double>>;

struct MetricsOptions {
  bool jsonl = true;  // false (logging.metrics: false): no metrics.jsonl is written
  bool tensorboard = true;
  // When resuming from this step: lines of metrics.jsonl after it (logged by the interrupted run
  // after its last checkpoint) are dropped, so the file reads as one run, and a damaged last line
  // (a crash mid-write) goes with them.
  std::optional<int64_t> resume_step;
};

class MetricsWriter {
 public:
  // Appends to <dir>/metrics.jsonl; with tensorboard, writes a new event file in `dir`.
  explicit MetricsWriter(const std::filesystem::path& dir, const MetricsOptions& options = {});
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  void log_train(const TrainMetrics& m);
  // An evaluation on `split` ("val", "test"): loss, perplexity, bits per byte, ...
  void log_eval(int64_t step, const std::string& split, const Scalars& scalars);
  // Any other kind of entry: {"kind": kind, "step": step, "time": ..., scalars...}; tags
  // "<kind>/<name>".
  void log(const std::string& kind, int64_t step, const Scalars& scalars);

  // Where metrics.jsonl is (written only with MetricsOptions::jsonl).
  const std::filesystem::path& jsonl_path() const { return jsonl_path_; }
  // The event file, or nullptr without TensorBoard.
  const EventFileWriter* events() const { return events_.get(); }

 private:
  // Writes `line` (which has kind, step and time) and each of `scalars` to TensorBoard as
  // "<tag_prefix><name>".
  void write(const nlohmann::ordered_json& line, const Scalars& scalars, const std::string& tag_prefix);
  std::filesystem::path jsonl_path_;
  int fd_ = -1;
  std::unique_ptr<EventFileWriter> events_;
};

}  // namespace gau::trainers
