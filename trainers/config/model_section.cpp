#include "trainers/config/model_section.h"

#include "core/error.h"
#include "layers/registry.h"

namespace gau::config {

namespace {

std::shared_ptr<layers::Module> build_section(const YAML::Node& written, const std::string& path) {
  GAU_CHECK(written && written.IsMap(), path, ": the config needs a model section: a layer config such as {type: ",
            "language_model, vocab: 256, dim: 256, blocks: {type: gau}, layers: 4} (presets: configs/models/)");
  return layers::build(written, path);
}

}  // namespace

const SectionSchema& model_section() {
  static const ReaderSection section(
      "model",
      "the model: a layer config with a type (language_model, masked_lm), built by the layer registry; its keys "
      "are the type's (layers/models/language_model.h), presets in configs/models/",
      [](const YAML::Node& written, const std::string& path) { return build_section(written, path)->config(); });
  return section;
}
GAU_CONFIG_SECTION(model_section());

std::shared_ptr<layers::Module> build_model(const LoadedConfig& config) {
  layers::ConfigOriginsScope scope(config.origins);
  return build_section(section_of(config.root, "model"), "model");
}

}  // namespace gau::config
