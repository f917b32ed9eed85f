#include "trainers/config/plugins_section.h"

#include "core/error.h"
#include "trainers/config/load.h"
#include "trainers/config/schema.h"

namespace gau::config {

namespace {

std::string where_in(const std::string& path, const YAML::Node& node,
                     const std::shared_ptr<const layers::ConfigOrigins>& origins, const std::string& named_in) {
  const std::string pos = origins ? origins->position(path, node.Mark()) : "";
  if (!pos.empty()) return path + " (" + pos + ")";
  return named_in.empty() ? path : path + " of " + named_in;
}

// The list as written, checked: a list of file names (or absent: no plugins).
YAML::Node checked_list(const YAML::Node& written, const std::shared_ptr<const layers::ConfigOrigins>& origins,
                        const std::string& named_in) {
  if (!written.IsDefined() || written.IsNull()) return YAML::Node(YAML::NodeType::Sequence);
  GAU_CHECK(written.IsSequence(), where_in("plugins", written, origins, named_in),
            ": expected a list of plugin files, such as [build/libmy_layers.so]");
  for (size_t i = 0; i < written.size(); ++i)
    GAU_CHECK(written[i].IsScalar() && !written[i].Scalar().empty(),
              where_in("plugins[" + std::to_string(i) + "]", written[i], origins, named_in),
              ": expected the path of a plugin's shared library");
  return written;
}

YAML::Node resolve_plugins(const YAML::Node& written, const std::string&) {
  return YAML::Clone(checked_list(written, nullptr, ""));
}

const SectionSchema& plugins_section() {
  static const ReaderSection section(
      "plugins", "shared libraries of custom layers to load before the model is built (layers/plugin.h)",
      resolve_plugins, nullptr);
  return section;
}

}  // namespace

GAU_CONFIG_SECTION(plugins_section());

std::vector<layers::LoadedPlugin> load_config_plugins(const YAML::Node& root,
                                                      const std::shared_ptr<const layers::ConfigOrigins>& origins,
                                                      const std::string& named_in) {
  const YAML::Node list = checked_list(root.IsMap() ? section_of(root, "plugins") : YAML::Node(), origins, named_in);
  std::vector<layers::LoadedPlugin> loaded;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "plugins[" + std::to_string(i) + "]";
    const std::string pos = origins ? origins->position(path, list[i].Mark()) : "";
    loaded.push_back(layers::load_plugin(list[i].Scalar(), pos.empty() ? where_in(path, list[i], nullptr, named_in) : pos));
  }
  return loaded;
}

}  // namespace gau::config
