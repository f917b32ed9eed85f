// The optim: section: optim/factory.h reads and checks it, every key of the chosen type, without
// the model; only whether each group pattern names a parameter waits for make_optimizer.
#include "optim/factory.h"
#include "trainers/config/schema.h"

namespace gau::config {

namespace {

YAML::Node resolve_optim(const YAML::Node& written, const std::string& path) {
  layers::ConfigReader r(written, path);
  optim::read_optimizer_config(r);
  return r.filled();
}

const SectionSchema& optim_config_section() {
  static const ReaderSection section(
      "optim",
      "the optimizer: the keys of a type (sgd, adam, adamw, lamb, adafactor, lion; default adamw), documented "
      "in optim/factory.h",
      resolve_optim, [] {
        std::vector<ReaderSection::Example> examples;
        for (const std::string& type : optim::optimizer_types())
          examples.push_back({"type", type, "{type: " + type + "}"});
        return examples;
      });
  return section;
}

}  // namespace

GAU_CONFIG_SECTION(optim_config_section());

}  // namespace gau::config
