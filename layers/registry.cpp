#include "layers/registry.h"

#include <algorithm>
#include <sstream>

namespace gau::layers {

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

void Registry::add(LayerType type) {
  GAU_CHECK(!type.name.empty() && type.from_config, "registry: a layer type needs a name and a factory");
  GAU_CHECK(find(type.name) == nullptr, "registry: layer type '", type.name,
            "' is registered twice (two GAU_REGISTER_LAYER lines with the same name)");
  types_.push_back(std::make_unique<LayerType>(std::move(type)));
}

const LayerType* Registry::find(const std::string& name) const {
  for (const auto& t : types_)
    if (t->name == name) return t.get();
  return nullptr;
}

std::vector<const LayerType*> Registry::types() const {
  std::vector<const LayerType*> out;
  for (const auto& t : types_) out.push_back(t.get());
  std::sort(out.begin(), out.end(), [](const LayerType* a, const LayerType* b) { return a->name < b->name; });
  return out;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const LayerType* t : types()) out.push_back(t->name);
  return out;
}

std::shared_ptr<Module> build(const YAML::Node& node, const std::string& path, const std::string& file) {
  ConfigReader reader(node, path, file);
  const std::string type = reader.string("type");
  const LayerType* entry = Registry::global().find(type);
  if (entry == nullptr) {
    const std::vector<std::string> names = Registry::global().names();
    std::ostringstream os;
    os << "unknown layer type '" << type << "'; registered types:";
    for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : " ") << names[i];
    const std::string hint = nearest(type, names);
    if (!hint.empty()) os << "; did you mean '" << hint << "'?";
    reader.fail("type", os.str());
  }
  std::shared_ptr<Module> module = entry->from_config(reader);
  GAU_CHECK(module != nullptr, "registry: the factory of '", type, "' returned null for ", path);
  reader.check_no_unknown_keys();
  module->set_path(path);
  module->set_config(YAML::Clone(reader.filled()));
  return module;
}

}  // namespace gau::layers
