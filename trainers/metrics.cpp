#include "trainers/metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "trainers/atomic_file.h"

namespace gau::trainers {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// The lines of `path` whose step is at most `step`, up to the first line that does not parse.
std::string lines_up_to(const fs::path& path, int64_t step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) break;
    if (j["step"].get<int64_t>() <= step) kept += line + "\n";
  }
  return kept;
}

ordered_json start(const std::string& kind, int64_t step) {
  return {{"kind", kind}, {"step", step}, {"time", unix_time_now()}};
}

}  // namespace

MetricsWriter::MetricsWriter(const fs::path& dir, const MetricsOptions& options) : jsonl_path_(dir / "metrics.jsonl") {
  if (options.resume_step && fs::exists(jsonl_path_))
    write_file_atomic(jsonl_path_, lines_up_to(jsonl_path_, *options.resume_step));
  if (options.jsonl) {
    fd_ = ::open(jsonl_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    GAU_CHECK(fd_ >= 0, "cannot open ", jsonl_path_.string(), ": ", std::strerror(errno));
  }
  if (options.tensorboard) {
    events_ = std::make_unique<EventFileWriter>(dir);
    // metrics.jsonl was cut back to the checkpoint above; the event files are told the same.
    if (options.resume_step) events_->add_session_start(*options.resume_step + 1);
  }
}

MetricsWriter::~MetricsWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void MetricsWriter::log_train(const TrainMetrics& m) {
  ordered_json line = start("train", m.step);
  Scalars s = {{"loss", m.loss},
               {"lr", m.lr},
               {"grad_norm", m.grad_norm},
               {"tokens_per_s", m.tokens_per_s},
               {"peak_memory_bytes", static_cast<double>(m.peak_memory_bytes)},
               {"loss_scale", m.loss_scale}};
  for (const auto& [name, v] : s) line[name] = v;
  line["peak_memory_bytes"] = m.peak_memory_bytes;  // exact, as an integer
  write(line, s, "train/");
}

void MetricsWriter::log_eval(int64_t step, const std::string& split, const Scalars& scalars) {
  ordered_json line = start("eval", step);
  line["split"] = split;
  for (const auto& [name, v] : scalars) line[name] = v;
  write(line, scalars, "eval/" + split + "/");
}

void MetricsWriter::log(const std::string& kind, int64_t step, const Scalars& scalars) {
  ordered_json line = start(kind, step);
  for (const auto& [name, v] : scalars) line[name] = v;
  write(line, scalars, kind + "/");
}

void MetricsWriter::write(const ordered_json& line, const Scalars& scalars, const std::string& tag_prefix) {
  // One write(2) per line on an O_APPEND descriptor: the line is in the file when this returns
  // and a reader never sees half of one (short of a crash inside the call).
  if (fd_ >= 0) {
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    write_fully(fd_, text.data(), text.size(), jsonl_path_);
  }
  if (!events_) return;
  const int64_t step = line["step"].get<int64_t>();
  const double time = line["time"].get<double>();
  for (const auto& [name, v] : scalars) events_->add_scalar(tag_prefix + name, static_cast<float>(v), step, time);
}

}  // namespace gau::trainers
