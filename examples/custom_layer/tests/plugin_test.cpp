// The plugin as `gau train` meets it: this test program is linked to gau alone, not to
// libgau_custom.so, and loads the library through gau's plugin loader (layers/plugin.h), which
// reads the record GAU_PLUGIN wrote into the file before it dlopens it.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/ops/factory.h"
#include "core/version.h"
#include "layers/plugin.h"
#include "layers/registry.h"

namespace {

TEST(Plugin, TheFileCarriesItsRecord) {
  const gau::layers::PluginFileInfo info = gau::layers::read_plugin_record(GAU_CUSTOM_PLUGIN_FILE);
  ASSERT_TRUE(info.ok) << info.error;
  EXPECT_EQ(std::string(info.record.name), "gau_custom");
  EXPECT_EQ(std::string(info.record.gau_version), GAU_VERSION_STRING);
  EXPECT_EQ(info.record.abi, gau::layers::kPluginAbi);
}

TEST(Plugin, LoadsAndRegistersGatedConv) {
  EXPECT_EQ(gau::layers::Registry::global().find("gated_conv"), nullptr) << "registered before the plugin loaded";
  const gau::layers::LoadedPlugin plugin = gau::layers::load_plugin(GAU_CUSTOM_PLUGIN_FILE);
  EXPECT_EQ(plugin.name, "gau_custom");
  EXPECT_EQ(plugin.layers, std::vector<std::string>{"gated_conv"});
  // Loading the same file again is a no-op that returns the same record.
  EXPECT_EQ(gau::layers::load_plugin(GAU_CUSTOM_PLUGIN_FILE).layers, plugin.layers);

  auto block = gau::layers::build(YAML::Load("{type: gated_conv, dim: 8}"), "model.blocks[0]");
  EXPECT_EQ(block->type_name(), "GatedConv");
  EXPECT_EQ(block->forward(gau::ops::zeros({2, 3, 8})).shape(), (gau::Shape{2, 3, 8}));
}

}  // namespace
