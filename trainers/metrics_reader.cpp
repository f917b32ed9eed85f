#include "trainers/metrics_reader.h"

#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gau::trainers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// "runs/default/metrics.jsonl:12"
std::string line_place(const fs::path& file, int64_t line) { return file.string() + ":" + std::to_string(line); }

// j[key] as a number: NaN when null or absent (a NaN was written as null).
double number(const json& j, const char* key, const fs::path& file, int64_t line) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return kMissing;
  GAU_CHECK(it->is_number(), line_place(file, line), ": \"", key, "\" should be a number or null, got ", it->dump());
  return it->get<double>();
}

// A record's kind and integer step, checked.
void check_header(const json& j, const fs::path& file, int64_t line) {
  GAU_CHECK(j.is_object(), line_place(file, line), ": expected a JSON object per line, got ", j.dump());
  const auto kind = j.find("kind"), step = j.find("step");
  GAU_CHECK(kind != j.end() && kind->is_string(), line_place(file, line), ": the record has no \"kind\" string");
  GAU_CHECK(step != j.end() && step->is_number_integer(), line_place(file, line),
            ": the record has no integer \"step\"");
}

}  // namespace

fs::path metrics_file(const fs::path& run_or_file) {
  if (fs::is_directory(run_or_file)) {
    const fs::path file = run_or_file / "metrics.jsonl";
    GAU_CHECK(fs::is_regular_file(file), run_or_file.string(), " has no metrics.jsonl (", file.string(),
              " is missing): give a run directory that gau train wrote, or a metrics .jsonl file");
    return file;
  }
  GAU_CHECK(fs::is_regular_file(run_or_file), run_or_file.string(),
            ": no such run directory or metrics file (a run directory holds metrics.jsonl)");
  return run_or_file;
}

std::string run_label(const fs::path& run_or_file) {
  // absolute + lexically_normal: "runs/default/" and "." have a name too.
  const fs::path p = fs::absolute(run_or_file).lexically_normal();
  const fs::path named = p.filename().empty() ? p.parent_path() : p;
  if (named.filename() == "metrics.jsonl") return named.parent_path().filename().string();
  if (fs::is_directory(named)) return named.filename().string();
  return named.stem().string();
}

RunMetrics read_metrics(const fs::path& run_or_file) {
  RunMetrics run;
  run.file = metrics_file(run_or_file);
  run.label = run_label(run_or_file);
  std::ifstream in(run.file);
  GAU_CHECK(in.good(), "cannot read ", run.file.string());
  std::string text;
  int64_t line = 0, records = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(text);
    } catch (const json::parse_error& e) {
      // A last line without its newline was cut mid-write (the run was killed, the disk filled):
      // the records before it stand.
      if (in.eof()) {
        run.cut_line = line;
        break;
      }
      GAU_FAIL(line_place(run.file, line), ": not a JSON line (", e.what(), ")");
    }
    check_header(j, run.file, line);
    ++records;
    const std::string kind = j["kind"].get<std::string>();
    const int64_t step = j["step"].get<int64_t>();
    const double time = number(j, "time", run.file, line);
    if (kind == "train") {
      run.train.push_back({step, time, number(j, "loss", run.file, line), number(j, "lr", run.file, line),
                           number(j, "tokens_per_s", run.file, line)});
    } else if (kind == "eval") {
      const auto split = j.find("split");
      GAU_CHECK(split != j.end() && split->is_string(), line_place(run.file, line),
                ": an eval record needs a \"split\" string");
      run.eval.push_back({step, time, split->get<std::string>(), number(j, "loss", run.file, line),
                          number(j, "bits_per_byte", run.file, line)});
    }
  }
  GAU_CHECK(records > 0, run.file.string(), " is empty: the run has not logged a step yet");
  GAU_CHECK(!run.train.empty() || !run.eval.empty(), run.file.string(), " has ", records,
            " records, but none of kind train or eval");
  return run;
}

}  // namespace gau::trainers
