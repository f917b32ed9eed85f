#include "trainers/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/ops/copy.h"
#include "core/version.h"
#include "trainers/atomic_file.h"
#include "trainers/run_dir.h"
#include "trainers/safetensors.h"

namespace gau::trainers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kReserved[] = {"format_version", "gau_version", "step", "config", "files"};
constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
// Python's safetensors.torch writes this; transformers' loaders look for it.
const SafetensorsMetadata kMetadata = {{"format", "pt"}};

json digest_json(const FileDigest& d) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", d.crc32c);
  return {{"bytes", d.bytes}, {"crc32c", crc}};
}

// Loads dir/name and checks it against its record in state.json.
SafetensorsFile read_recorded(const fs::path& dir, const std::string& name, const json& record) {
  const fs::path path = dir / name;
  GAU_CHECK(fs::exists(path), "checkpoint ", dir.string(), ": state.json lists ", name, " but the file is missing");
  const uint64_t want_bytes = record.at("bytes").get<uint64_t>();
  const uint64_t bytes = fs::file_size(path);
  GAU_CHECK(bytes == want_bytes, "checkpoint ", dir.string(), ": ", name, " has ", bytes,
            " bytes but state.json recorded ", want_bytes, " (truncated or replaced)");
  SafetensorsFile f = load_safetensors(path);
  const std::string crc = digest_json(f.digest).at("crc32c").get<std::string>();
  const std::string want_crc = record.at("crc32c").get<std::string>();
  GAU_CHECK(crc == want_crc, "checkpoint ", dir.string(), ": ", name, " has CRC-32C ", crc, " but state.json recorded ",
            want_crc, " (the file is damaged or was modified)");
  return f;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

}  // namespace

fs::path save_checkpoint(const fs::path& run_dir, const CheckpointState& state, const layers::Module& model,
                         const layers::StateDict& optimizer, const CheckpointOptions& options) {
  GAU_CHECK(state.trainer.is_object(), "save_checkpoint: the trainer state must be a JSON object, got ",
            state.trainer.type_name());
  for (const char* key : kReserved)
    GAU_CHECK(!state.trainer.contains(key), "save_checkpoint: trainer state key \"", key,
              "\" is reserved for gau's own entry in state.json");
  GAU_CHECK(options.keep_last >= 0, "save_checkpoint: keep_last must be >= 0, got ", options.keep_last);
  const fs::path dir = run_dir / "checkpoints";
  std::error_code ec;
  fs::create_directories(dir, ec);
  GAU_CHECK(!ec, "cannot create ", dir.string(), ": ", ec.message());
  const std::string name = checkpoint_dir_name(state.step);
  const fs::path final_dir = dir / name;
  const fs::path staging = dir / ("." + name + ".partial-" + std::to_string(::getpid()));
  remove_quietly(staging);
  fs::create_directory(staging, ec);
  GAU_CHECK(!ec, "cannot create ", staging.string(), ": ", ec.message());
  try {
    json doc = state.trainer;
    doc["format_version"] = kFormatVersion;
    doc["gau_version"] = gau::version();
    doc["step"] = state.step;
    doc["config"] = state.config_yaml;
    doc["files"][kModelFile] = digest_json(save_safetensors(staging / kModelFile, model.state_dict(), kMetadata));
    if (!optimizer.empty())
      doc["files"][kOptimizerFile] = digest_json(save_safetensors(staging / kOptimizerFile, optimizer, kMetadata));
    write_file_atomic(staging / "state.json", doc.dump(2) + "\n");
    fsync_dir(staging);
    if (fs::exists(final_dir)) {
      // Swap in one step, so that the step's name always holds a complete checkpoint.
      GAU_CHECK(::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0,
                "cannot replace ", final_dir.string(), " with ", staging.string(), ": ", std::strerror(errno));
    } else {
      GAU_CHECK(::rename(staging.c_str(), final_dir.c_str()) == 0, "cannot move ", staging.string(), " to ",
                final_dir.string(), ": ", std::strerror(errno));
    }
    fsync_dir(dir);
  } catch (...) {
    remove_quietly(staging);
    throw;
  }
  remove_quietly(staging);  // the replaced checkpoint, after an exchange
  set_latest(run_dir, final_dir);
  prune_checkpoints(run_dir, options.keep_last);
  return final_dir;
}

Checkpoint read_checkpoint(const fs::path& dir) {
  const fs::path state_path = dir / "state.json";
  std::ifstream in(state_path);
  GAU_CHECK(in, "checkpoint ", dir.string(), " has no readable state.json (not a checkpoint directory?)");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    GAU_FAIL("checkpoint ", dir.string(), ": state.json is not valid JSON: ", e.what());
  }
  Checkpoint c;
  c.dir = dir;
  try {
    const int version = doc.at("format_version").get<int>();
    GAU_CHECK(version <= kFormatVersion, "checkpoint ", dir.string(), " has format version ", version,
              ", newer than the ", kFormatVersion, " this gau (", gau::version(), ") reads");
    c.gau_version = doc.at("gau_version").get<std::string>();
    c.state.step = doc.at("step").get<int64_t>();
    c.state.config_yaml = doc.at("config").get<std::string>();
    const json files = doc.at("files");
    c.model = read_recorded(dir, kModelFile, files.at(kModelFile)).tensors;
    if (files.contains(kOptimizerFile)) c.optimizer = read_recorded(dir, kOptimizerFile, files[kOptimizerFile]).tensors;
  } catch (const json::exception& e) {
    GAU_FAIL("checkpoint ", dir.string(), ": state.json lacks an entry or has one of the wrong type: ", e.what());
  }
  for (const char* key : kReserved) doc.erase(key);
  c.state.trainer = std::move(doc);
  return c;
}

namespace {

void load_weights(const fs::path& dir, const layers::StateDict& weights, layers::Module& model) {
  try {
    model.load_state_dict(weights);
  } catch (const Error& e) {
    GAU_FAIL("checkpoint ", (dir / kModelFile).string(),
             " does not fit the model (was it saved from another config?): ", error_message(e));
  }
}

}  // namespace

Checkpoint load_checkpoint(const fs::path& dir, layers::Module& model) {
  Checkpoint c = read_checkpoint(dir);
  load_weights(dir, c.model, model);
  return c;
}

Checkpoint load_checkpoint_converted(const fs::path& dir, layers::Module& model) {
  Checkpoint c = read_checkpoint(dir);
  layers::StateDict weights = c.model;
  for (const auto& [name, mine] : model.state_dict()) {
    const auto it = weights.find(name);
    if (it != weights.end() && is_floating(it->second.dtype()) && is_floating(mine.dtype()))
      it->second = ops::to_dtype(it->second, mine.dtype());
  }
  load_weights(dir, weights, model);
  return c;
}

void prune_checkpoints(const fs::path& run_dir, int keep_last) {
  const fs::path dir = run_dir / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (!n.empty() && n[0] == '.' && n.find(".partial-") != std::string::npos) remove_quietly(e.path());
  }
  if (keep_last <= 0) return;
  auto all = list_checkpoints(run_dir);
  std::optional<fs::path> latest;
  try {
    latest = latest_checkpoint(run_dir);
  } catch (const Error&) {
    return;  // a broken `latest` is reported where it is read; deleting around it would be a guess
  }
  const size_t keep_from = all.size() > static_cast<size_t>(keep_last) ? all.size() - keep_last : 0;
  for (size_t i = 0; i < keep_from; ++i) {
    if (latest && fs::equivalent(all[i].second, *latest)) continue;
    remove_quietly(all[i].second);
  }
  fsync_dir(dir);
}

json generator_state(const Generator& gen) { return {{"seed", gen.seed()}, {"offset", gen.offset()}}; }

void restore_generator(Generator& gen, const json& state) {
  GAU_CHECK(state.is_object() && state.contains("seed") && state.contains("offset") &&
                state["seed"].is_number_unsigned() && state["offset"].is_number_unsigned(),
            "restore_generator: expected {\"seed\": unsigned, \"offset\": unsigned}, got ", state.dump());
  const uint64_t offset = state["offset"].get<uint64_t>();
  GAU_CHECK(offset <= UINT64_MAX / 4, "restore_generator: offset ", offset, " is out of range");
  gen.manual_seed(state["seed"].get<uint64_t>());
  // advance(n) moves the offset by ceil(n / 4) blocks of four draws.
  gen.advance(offset * 4);
}

}  // namespace gau::trainers
