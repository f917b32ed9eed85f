#include "layers/registry.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "core/error.h"

namespace gau::layers {

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

namespace {

std::string origin_text(const std::string& origin) { return origin.empty() ? "gau or the program" : "plugin " + origin; }

}  // namespace

void Registry::add(LayerType type) {
  // While a plugin loads, an error is recorded: an exception cannot cross dlopen.
  auto fail = [&](std::string message) {
    if (loading_.empty()) GAU_FAIL("registry: ", message);
    loaded_.errors.push_back(std::move(message));
  };
  if (type.name.empty() || !type.from_config) return fail("a layer type needs a name and a factory");
  if (const LayerType* existing = find(type.name)) {
    return fail("layer type '" + type.name + "' is registered twice (by " + origin_text(existing->origin) +
                ", then by " + origin_text(loading_) + "): " +
                (existing->origin.empty() && !loading_.empty() ? "gau has a layer of that name; rename the plugin's"
                                                               : "two GAU_REGISTER_LAYER lines with the same name"));
  }
  type.origin = loading_;
  if (!loading_.empty()) loaded_.names.push_back(type.name);
  types_.push_back(std::make_unique<LayerType>(std::move(type)));
}

void Registry::begin_plugin(const std::string& origin) {
  GAU_CHECK(!origin.empty() && loading_.empty(), "registry: begin_plugin('", origin, "') while loading '", loading_, "'");
  loading_ = origin;
  loaded_ = {};
}

Registry::PluginRegistrations Registry::end_plugin() {
  loading_.clear();
  return std::exchange(loaded_, {});
}

void Registry::abort_plugin(const std::string& origin) {
  std::erase_if(types_, [&](const std::unique_ptr<LayerType>& t) { return t->origin == origin; });
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

namespace {

// Whether `message` already says where in the config it arose: the readers' errors begin with
// their key's path, which for this layer or any layer nested in it extends `path`.
bool names_config_path(const std::string& message, const std::string& path) {
  if (message.rfind(path, 0) != 0) return false;
  return message.size() == path.size() || std::string(".[ :").find(message[path.size()]) != std::string::npos;
}

// The factory's own checks (a constructor's GAU_CHECK, in a plugin's layer too) know the values,
// not the config: their errors gain the layer's path and position here.
std::shared_ptr<Module> from_config_at(const LayerType& entry, ConfigReader& reader) {
  try {
    return entry.from_config(reader);
  } catch (const OutOfMemoryError&) {
    throw;
  } catch (const Error& e) {
    if (names_config_path(e.message(), reader.path())) throw;
    const std::string location = std::string(e.what()).substr(e.message().size());
    throw Error(reader.where("") + ": " + e.message(), location);
  }
}

}  // namespace

std::shared_ptr<Module> build(const YAML::Node& node, const std::string& path, const std::string& file) {
  ConfigReader reader(node, path, file);
  reader.document("type", "a registered layer type", "required");
  reader.explain({{"type", "the layer: any registered type, a plugin's too (gau config --keys model lists them)"}});
  const std::string type = reader.string("type");
  const LayerType* entry = Registry::global().find(type);
  if (entry == nullptr) {
    const std::vector<std::string> names = Registry::global().names();
    std::ostringstream os;
    os << "unknown layer type '" << type << "'; registered types:" << (names.empty() ? "" : " " + comma_list(names));
    const std::string hint = nearest(type, names);
    if (!hint.empty()) os << "; did you mean '" << hint << "'?";
    reader.fail("type", os.str());
  }
  std::shared_ptr<Module> module = from_config_at(*entry, reader);
  GAU_CHECK(module != nullptr, "registry: the factory of '", type, "' returned null for ", path);
  reader.check_no_unknown_keys();
  module->set_path(path);
  module->set_config(YAML::Clone(reader.filled()));
  return module;
}

}  // namespace gau::layers
