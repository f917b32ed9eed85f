#pragma once
// Reading metrics.jsonl back: the train and eval records that trainers/metrics.h writes (and
// bench/default_run_torch.py, in the same format), for `gau plot` and run comparisons.
//
//   RunMetrics run = read_metrics("runs/default");          // or ".../metrics.jsonl", or any .jsonl
//   for (const TrainRecord& r : run.train) ... r.step, r.loss ...
//
// A null or missing number reads as NaN. Records of other kinds are skipped, as are blank lines.
// Errors name the file and, for a line that is not a record (not JSON, no kind or integer step, a
// number that is not a number), its line number; except a last line that is not JSON and lacks
// its newline, which a run killed mid-write leaves: it is skipped and noted in cut_line.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gau::trainers {

struct TrainRecord {
  int64_t step = 0;
  double time = 0;  // seconds since the Unix epoch
  double loss = 0, lr = 0, tokens_per_s = 0;
};

struct EvalRecord {
  int64_t step = 0;
  double time = 0;
  std::string split;  // "val", "test"
  double loss = 0, bits_per_byte = 0;
};

struct RunMetrics {
  std::string label;           // names the run in plots: the run directory's name
  std::filesystem::path file;  // the metrics.jsonl read
  std::vector<TrainRecord> train;
  std::vector<EvalRecord> eval;
  int64_t cut_line = 0;  // a last line cut mid-write, skipped (its number), or 0
};

// The metrics file of `run_or_file`: RUN_DIR/metrics.jsonl for a directory, the path itself for
// a file. Throws when it does not exist.
std::filesystem::path metrics_file(const std::filesystem::path& run_or_file);

// The run's label: the directory's name for RUN_DIR and RUN_DIR/metrics.jsonl, the file's stem
// for any other file ("runs/torch.jsonl" -> "torch").
std::string run_label(const std::filesystem::path& run_or_file);

// Every train and eval record of the run, in file order. Throws for an empty file, a file
// without a train or eval record, or a damaged line.
RunMetrics read_metrics(const std::filesystem::path& run_or_file);

}  // namespace gau::trainers
