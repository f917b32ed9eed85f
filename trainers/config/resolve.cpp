#include "trainers/config/resolve.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/error.h"
#include "optim/factory.h"
#include "trainers/data/data_config.h"
#include "trainers/config/plugins_section.h"
#include "trainers/config/schedule_section.h"
#include "trainers/config/schema.h"
#include "trainers/config/yaml_text.h"

namespace gau::config {

namespace {

// The order a reader meets the sections in: what is trained, on what, how, then the run's
// settings. Only the dump's layout: a section missing here sorts after these, by name.
size_t reading_rank(const std::string& name) {
  static const std::vector<std::string> order = {"plugins", "model",     "data",        "optim",  "schedule",
                                                 "train",   "precision", "distributed", "logging"};
  return std::find(order.begin(), order.end(), name) - order.begin();
}

// A reader over the section as written, for the positions of its keys in messages (the resolved
// section's nodes are rebuilt and carry none).
layers::ConfigReader written_reader(const LoadedConfig& config, const std::string& section) {
  return layers::ConfigReader(section_of(config.root, section), section);
}

// The data against the model: rows no longer than the model's positions, ids below its vocabulary
// (where the config alone fixes the data's vocabulary; a sentencepiece model file is checked once
// the trainer loads it).
void check_data_fits_model(const LoadedConfig& config, const YAML::Node& resolved) {
  const YAML::Node data_node = resolved["data"], model_node = resolved["model"];
  if (!data_node || !model_node || !model_node.IsMap()) return;
  const data::DataConfig data = data::read_data_config(data_node, "", "data");
  const layers::ConfigReader model = written_reader(config, "model"), written_data = written_reader(config, "data");
  if (const YAML::Node max_length = model_node["max_length"]; max_length && max_length.IsScalar())
    if (data.loader.seq_len > max_length.as<int64_t>())
      model.fail("max_length", "is " + max_length.Scalar() + " positions, but " + written_data.where("seq_len") +
                                   " is " + std::to_string(data.loader.seq_len) +
                                   " tokens per row: raise model.max_length or lower data.seq_len");
  const int64_t vocabulary = data::vocabulary_from_config(data);
  if (const YAML::Node vocab = model_node["vocab"]; vocabulary > 0 && vocab && vocab.IsScalar())
    if (vocabulary > vocab.as<int64_t>())
      model.fail("vocab", "is " + vocab.Scalar() + ", but the data (" + written_data.where("source") + ": " +
                              data.source + ") has " + std::to_string(vocabulary) +
                              " ids: set model.vocab to at least " + std::to_string(vocabulary));
}

// The first `backend: cudnn` under `node` (at config path `path`), as the map that holds it and
// its path; the map is undefined when there is none.
std::pair<YAML::Node, std::string> find_cudnn_backend(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) {
    if (const YAML::Node b = node["backend"]; b && b.IsScalar() && b.Scalar() == "cudnn") return {node, path};
    for (auto it = node.begin(); it != node.end(); ++it)
      if (auto found = find_cudnn_backend(it->second, path + "." + it->first.Scalar()); found.first.IsDefined())
        return found;
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      if (auto found = find_cudnn_backend(node[i], path + "[" + std::to_string(i) + "]"); found.first.IsDefined())
        return found;
  }
  return {YAML::Node(YAML::NodeType::Undefined), ""};
}

// cuDNN's attention runs on CUDA tensors only: a CPU run would fail at its first step.
void check_backends_fit_device(const LoadedConfig& config, const YAML::Node& resolved) {
  const YAML::Node device = resolved["train"]["device"];
  if (!device || !device.IsScalar() || device.Scalar().rfind("cuda", 0) == 0 || device.Scalar() == "gpu") return;
  const auto [map, path] = find_cudnn_backend(section_of(config.root, "model"), "model");
  if (!map.IsDefined()) return;
  layers::ConfigReader(map, path)
      .fail("backend", "cudnn runs on CUDA devices only, but " + written_reader(config, "train").where("device") +
                           " is " + device.Scalar() + "; use backend: gau on the CPU");
}

// Rules that join sections, checked once each section is, so that `gau config` rejects what
// `gau train` would: the schedule against train.steps and the optimizer's lr (a warmup longer than
// the run, a floor above the lr), the data against the model, and ZeRO-1 against the optimizer.
void check_across_sections(const LoadedConfig& config, const YAML::Node& resolved) {
  const YAML::Node schedule = resolved["schedule"], optim = resolved["optim"], train = resolved["train"];
  if (schedule && optim && optim["lr"] && train && train["steps"])
    build_schedule(schedule, optim["lr"].as<double>(), train["steps"].as<int64_t>());
  check_data_fits_model(config, resolved);
  check_backends_fit_device(config, resolved);
  // Stochastic rounding rounds f32 master weights into bf16/f16 parameters: fp32 has none.
  const YAML::Node dtype = resolved["precision"]["dtype"];
  if (optim && optim["stochastic_rounding"] && optim["stochastic_rounding"].as<bool>() && dtype &&
      dtype.as<std::string>() == "fp32") {
    // precision: fp32 may be the shorthand, a scalar (no reader takes it), or not written at all.
    const YAML::Node written = section_of(config.root, "precision");
    const std::string at = written.IsMap() ? written_reader(config, "precision").where("dtype") : "precision";
    written_reader(config, "optim")
        .fail("stochastic_rounding", "rounds the f32 master weights into bf16 or f16 parameters, but " + at +
                                         " is fp32: there is nothing to round; drop it or train in bf16");
  }
  const YAML::Node zero = resolved["distributed"]["zero"];
  if (zero && zero.as<int64_t>() == 1 && optim && optim["type"]) {
    const std::string type = optim["type"].as<std::string>();
    if (!optim::state_shardable(type))
      written_reader(config, "optim")
          .fail("type", type + " cannot run with " + written_reader(config, "distributed").where("zero") +
                            " = 1: ZeRO-1 shards the optimizer state by element, and " + type +
                            " needs whole parameters; use sgd, adam, adamw or lion, or distributed.zero: 0");
  }
}

}  // namespace

YAML::Node resolve_config(const LoadedConfig& config) {
  layers::ConfigOriginsScope scope(config.origins);
  const Schema& schema = Schema::global();
  for (auto it = config.root.begin(); it != config.root.end(); ++it) {
    const std::string name = it->first.Scalar();
    if (schema.find(name) == nullptr) {
      const std::string pos = config.origins->position(name, it->first.Mark());
      const std::string hint = layers::nearest(name, schema.names());
      GAU_FAIL(name, pos.empty() ? "" : " (" + pos + ")", ": unknown section '", name, "'",
               hint.empty() ? "" : "; did you mean '" + hint + "'?", "\nvalid sections: ", layers::comma_list(schema.names()));
    }
  }
  // The model section builds layers through the registry, where a plugin's types must be by then.
  load_config_plugins(config.root, config.origins);
  std::vector<std::string> order = schema.names();
  std::stable_sort(order.begin(), order.end(),
                   [](const std::string& a, const std::string& b) { return reading_rank(a) < reading_rank(b); });

  YAML::Node resolved(YAML::NodeType::Map);
  for (const std::string& name : order) resolved[name] = schema.find(name)->resolve(section_of(config.root, name));
  check_across_sections(config, resolved);
  return resolved;
}

std::string dump_config(const YAML::Node& resolved) { return to_yaml(tidy_numbers(resolved)) + "\n"; }

}  // namespace gau::config
