// The plugin's declaration: GAU_PLUGIN wrote a record with this plugin's name and the gau version
// it was compiled against into the library file, where gau's loader reads it before dlopen, and
// loading the library registered gated_conv.
#include <gtest/gtest.h>

#include <string>

#include "core/version.h"
#include "layers/plugin.h"
#include "layers/registry.h"

namespace {

TEST(Plugin, TheLibraryCarriesItsRecord) {
  const gau::layers::PluginFileInfo info = gau::layers::read_plugin_record(GAU_CUSTOM_PLUGIN_FILE);
  ASSERT_TRUE(info.ok) << info.error;
  EXPECT_EQ(std::string(info.record.name), "gau_custom");
  EXPECT_EQ(std::string(info.record.gau_version), GAU_VERSION_STRING);
  EXPECT_EQ(info.record.abi, gau::layers::kPluginAbi);
}

TEST(Plugin, LoadingTheLibraryRegisteredTheLayer) {
  EXPECT_NE(gau::layers::Registry::global().find("gated_conv"), nullptr);
}

}  // namespace
