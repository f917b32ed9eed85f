#include "trainers/config/model_section.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "layers/registry.h"

namespace gau::config {

namespace {

std::shared_ptr<layers::Module> build_section(const YAML::Node& written, const std::string& path) {
  const std::string example = "a layer config such as {type: language_model, vocab: 256, dim: 256, blocks: "
                              "{type: gau}, layers: 4} (presets: configs/models/)";
  GAU_CHECK(written && !written.IsNull(), path, ": the config needs a model section: ", example);
  GAU_CHECK(written.IsMap(), path, ": expected ", example, ", got ",
            written.IsScalar() ? "'" + written.Scalar() + "'" : std::string("a list"));
  return layers::build(written, path);
}

// The example with `extra` keys, if that still builds: the keys that only some settings read
// (a relative bias's, per kind) are listed from such variants.
std::optional<YAML::Node> variant(const YAML::Node& example, const char* extra) {
  YAML::Node config = YAML::Clone(example);
  for (const auto& kv : YAML::Load(extra)) config[kv.first.Scalar()] = kv.second;
  try {
    layers::build(config, "model");
  } catch (const std::exception&) {
    return std::nullopt;  // the type has no such keys
  }
  return config;
}

// Every registered layer type from its example config: the model types first, then the layers
// they are built from.
std::vector<ReaderSection::Example> layer_examples() {
  const std::vector<std::string> models = {"language_model", "masked_lm"};
  std::vector<std::string> names = models;
  for (const std::string& name : layers::Registry::global().names())
    if (std::find(models.begin(), models.end(), name) == models.end()) names.push_back(name);
  std::vector<ReaderSection::Example> examples;
  for (const std::string& name : names) {
    const layers::LayerType* type = layers::Registry::global().find(name);
    if (type == nullptr) continue;
    YAML::Node config = YAML::Load(type->example_config);
    config["type"] = name;
    examples.push_back({"type", name, YAML::Dump(config)});
    for (const char* extra : {"{position: relative}", "{position: relative, relative_kind: per_offset}",
                              "{kind: per_offset}"})
      if (const std::optional<YAML::Node> v = variant(config, extra)) examples.push_back({"type", name, YAML::Dump(*v)});
  }
  return examples;
}

}  // namespace

const SectionSchema& model_section() {
  static const ReaderSection section(
      "model",
      "the model: a layer config with a type (language_model, masked_lm), built by the layer registry; its keys "
      "are the type's (layers/models/language_model.h), presets in configs/models/. The blocks are layer "
      "configs too, listed below; a model sets its blocks' dim, max_length and causal",
      [](const YAML::Node& written, const std::string& path) { return build_section(written, path)->config(); },
      layer_examples, ReaderSection::Nested::own_types);
  return section;
}
GAU_CONFIG_SECTION(model_section());

std::shared_ptr<layers::Module> build_model(const LoadedConfig& config) {
  layers::ConfigOriginsScope scope(config.origins);
  return build_section(section_of(config.root, "model"), "model");
}

}  // namespace gau::config
