#include "trainers/run_dir.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "trainers/atomic_file.h"

namespace gau::trainers {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  GAU_CHECK(in, "cannot read ", path.string());
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// The step of a directory named step_<digits>, or -1.
int64_t step_of(const std::string& name) {
  if (name.size() <= 5 || name.compare(0, 5, "step_") != 0 || name.size() > 5 + 18) return -1;
  int64_t step = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

}  // namespace

RunDir RunDir::create(const fs::path& path, std::string_view config_yaml) {
  GAU_CHECK(!fs::exists(path / "config.yaml"), "run directory ", path.string(),
            " already holds a run (it has a config.yaml); resume that run or choose a new directory");
  RunDir run(path);
  run.made_directory_ = !fs::exists(path);
  std::error_code listing;
  if (!run.made_directory_)
    for (const fs::directory_entry& e : fs::directory_iterator(path, listing))
      run.found_.push_back(e.path().filename());
  std::error_code ec;
  fs::create_directories(path / "checkpoints", ec);
  GAU_CHECK(!ec, "cannot create the run directory ", path.string(), " (its checkpoints/): ", ec.message(),
            fs::exists(path) && !fs::is_directory(path) ? "; a file of that name is in the way" : "");
  write_file_atomic(path / "config.yaml", config_yaml);
  return run;
}

void RunDir::discard_unstarted() const {
  std::error_code ec;  // best effort: this runs while another error is on its way to the user
  if (made_directory_) {
    fs::remove_all(path_, ec);
    return;
  }
  std::vector<fs::path> written;
  for (const fs::directory_entry& e : fs::directory_iterator(path_, ec))
    if (std::find(found_.begin(), found_.end(), e.path().filename()) == found_.end()) written.push_back(e.path());
  for (const fs::path& p : written) fs::remove_all(p, ec);
}

RunDir RunDir::open(const fs::path& path) {
  GAU_CHECK(fs::is_directory(path), "run directory ", path.string(), " does not exist");
  GAU_CHECK(fs::exists(path / "config.yaml"), path.string(), " is not a run directory: it has no config.yaml");
  std::error_code ec;
  fs::create_directories(path / "checkpoints", ec);
  GAU_CHECK(!ec, "cannot create ", (path / "checkpoints").string(), ": ", ec.message());
  return RunDir(path);
}

std::string RunDir::config_yaml() const { return read_text(config_path()); }

fs::path new_run_path(const fs::path& runs_root, const std::string& name) {
  GAU_CHECK(!name.empty() && name.find('/') == std::string::npos, "run name must be non-empty and hold no '/', got '",
            name, "'");
  fs::path p = runs_root / name;
  for (int i = 2; fs::exists(p); ++i) p = runs_root / (name + "-" + std::to_string(i));
  return p;
}

std::string checkpoint_dir_name(int64_t step) {
  GAU_CHECK(step >= 0, "checkpoint step must be non-negative, got ", step);
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%06lld", static_cast<long long>(step));
  return buf;
}

std::vector<std::pair<int64_t, fs::path>> list_checkpoints(const fs::path& run_dir) {
  std::vector<std::pair<int64_t, fs::path>> out;
  const fs::path dir = run_dir / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    int64_t step = step_of(e.path().filename().string());
    if (step >= 0 && e.is_directory() && fs::exists(e.path() / "state.json")) out.emplace_back(step, e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The tail of a broken-`latest` error: the checkpoint the user could resume from instead. Only
// called on that error (GAU_CHECK builds its message on failure), so a sound pointer lists nothing.
std::string newest_checkpoint_hint(const fs::path& run_dir, const fs::path& latest) {
  const auto all = list_checkpoints(run_dir);
  if (all.empty()) return "; the run has no complete checkpoint in checkpoints/";
  return "; the newest complete checkpoint is " + all.back().second.lexically_relative(run_dir).string() +
         " (write that into " + latest.string() + " to resume from it)";
}

}  // namespace

std::optional<fs::path> latest_checkpoint(const fs::path& run_dir) {
  const fs::path latest = run_dir / "latest";
  if (!fs::exists(latest)) return std::nullopt;
  std::string text = read_text(latest);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  // A broken pointer is an error, not a fall-back to an older checkpoint: resuming from another step than the
  // user expects would silently repeat or skip training. The message names the checkpoint they could resume.
  GAU_CHECK(!text.empty(), latest.string(), " is empty; it should name a checkpoint directory",
            newest_checkpoint_hint(run_dir, latest));
  // A NUL or control byte would be cut or misread by the file system (a NUL ends the path early, at the run dir).
  const bool printable =
      std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 32; });
  GAU_CHECK(printable, latest.string(), " does not hold a checkpoint path (it has control or NUL bytes)",
            newest_checkpoint_hint(run_dir, latest));
  fs::path target = fs::path(text).is_absolute() ? fs::path(text) : run_dir / text;
  GAU_CHECK(fs::is_directory(target) && fs::exists(target / "state.json"), latest.string(), " names ",
            target.string(), ", which is not a complete checkpoint (no state.json)",
            newest_checkpoint_hint(run_dir, latest));
  return target;
}

void set_latest(const fs::path& run_dir, const fs::path& checkpoint) {
  const fs::path rel = checkpoint.lexically_relative(run_dir);
  GAU_CHECK(!rel.empty() && *rel.begin() == "checkpoints", "set_latest: ", checkpoint.string(), " is not under ",
            (run_dir / "checkpoints").string());
  write_file_atomic(run_dir / "latest", rel.string() + "\n");
}

fs::path resolve_checkpoint(const fs::path& p) {
  GAU_CHECK(fs::exists(p), p.string(), " does not exist (expected a run directory or a checkpoint directory)");
  if (fs::exists(p / "state.json")) return p;
  if (auto latest = latest_checkpoint(p)) return *latest;
  auto all = list_checkpoints(p);
  GAU_CHECK(!all.empty(), p.string(),
            " is neither a checkpoint (it has no state.json) nor a run directory with a checkpoint "
            "(no latest, no checkpoints/step_N)");
  return all.back().second;
}

}  // namespace gau::trainers
