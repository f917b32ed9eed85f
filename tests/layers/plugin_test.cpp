// The plugin loader (layers/plugin.h) on the small plugins of tests/layers/plugins/, built beside
// this test: a good one, and one of each kind the loader must refuse with a clear message. The
// loader's state is per process, so these tests also check what a refusal leaves behind.
#include "layers/plugin.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/ops/factory.h"
#include "core/ops/reduce.h"
#include "layers/registry.h"
#include "tests/support/files.h"
#include "trainers/config/load.h"
#include "trainers/config/resolve.h"

namespace gau::layers {
namespace {

namespace fs = std::filesystem;

std::string plugin(const std::string& name) { return std::string(GAU_TEST_PLUGIN_DIR) + "/lib" + name + ".so"; }

// The message load_plugin throws for `path`, or "" when it loads.
std::string load_error(const std::string& path) {
  try {
    load_plugin(path, "test");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Plugin, LoadsRegistersAndBuildsItsLayers) {
  const LoadedPlugin p = load_plugin(plugin("good_plugin"));
  EXPECT_EQ(p.name, "good_plugin");
  EXPECT_EQ(p.path, fs::canonical(plugin("good_plugin")).string());
  EXPECT_EQ(p.layers, (std::vector<std::string>{"plugin_scale", "plugin_scale_too"}));
  ASSERT_NE(Registry::global().find("plugin_scale"), nullptr);
  EXPECT_EQ(Registry::global().find("plugin_scale")->origin, p.path);
  EXPECT_EQ(Registry::global().find("linear")->origin, "");

  auto m = build(YAML::Load("{type: plugin_scale, dim: 3}"));
  const Tensor y = m->forward(ops::full({2, 3}, 2.0f));
  EXPECT_DOUBLE_EQ(ops::sum(y).item(), 12.0);  // w starts at ones: 6 elements of 2
  EXPECT_EQ(m->config()["dim"].as<int>(), 3);
}

TEST(Plugin, LoadingTheSameFileTwiceIsANoOp) {
  const LoadedPlugin first = load_plugin(plugin("good_plugin"));
  const std::string other_spelling = std::string(GAU_TEST_PLUGIN_DIR) + "/./libgood_plugin.so";
  const LoadedPlugin again = load_plugin(other_spelling);
  EXPECT_EQ(again.path, first.path);
  size_t count = 0;
  for (const LoadedPlugin& p : loaded_plugins()) count += p.path == first.path;
  EXPECT_EQ(count, 1u);
}

TEST(Plugin, ALibraryAlreadyInTheProcessIsAcceptedAsLoaded) {
  // As if the program linked it: its registrations run now, outside the loader.
  void* handle = dlopen(plugin("resident_plugin").c_str(), RTLD_NOW);
  ASSERT_NE(handle, nullptr) << dlerror();
  ASSERT_NE(Registry::global().find("resident_scale"), nullptr);
  const LoadedPlugin p = load_plugin(plugin("resident_plugin"));
  EXPECT_EQ(p.name, "resident_plugin");
  EXPECT_TRUE(p.layers.empty());
  EXPECT_NO_THROW(build(YAML::Load("{type: resident_scale, dim: 2}")));
}

TEST(Plugin, MissingFile) {
  const std::string e = load_error(plugin("no_such_plugin"));
  EXPECT_NE(e.find("libno_such_plugin.so"), std::string::npos) << e;
  EXPECT_NE(e.find("(test)"), std::string::npos) << e;
  EXPECT_NE(e.find("no such file"), std::string::npos) << e;
}

TEST(Plugin, NotASharedLibrary) {
  test::TempDir dir;
  test::write_bytes(dir.path() / "libtext.so", "not an ELF file\n");
  const std::string e = load_error((dir.path() / "libtext.so").string());
  EXPECT_NE(e.find("is not a shared library (no ELF header)"), std::string::npos) << e;
}

TEST(Plugin, ASharedLibraryThatIsNotAGauPlugin) {
  const std::string e = load_error(plugin("no_record_plugin"));
  EXPECT_NE(e.find("not a gau plugin"), std::string::npos) << e;
  EXPECT_NE(e.find("GAU_PLUGIN"), std::string::npos) << e;
  // Refused from its file alone: its registration never ran.
  EXPECT_EQ(Registry::global().find("no_record_scale"), nullptr);
}

TEST(Plugin, APluginThatRegistersNothing) {
  const std::string e = load_error(plugin("empty_plugin"));
  EXPECT_NE(e.find("registers no layer"), std::string::npos) << e;
  for (const LoadedPlugin& p : loaded_plugins()) EXPECT_NE(p.name, "empty_plugin");
}

TEST(Plugin, ADuplicateNameIsRefusedAndTheWholePluginUndone) {
  const std::string e = load_error(plugin("duplicate_plugin"));
  EXPECT_NE(e.find("layer type 'linear' is registered twice"), std::string::npos) << e;
  EXPECT_NE(e.find("by gau or the program, then by plugin"), std::string::npos) << e;
  // Its other layer is gone too, and gau's own linear is untouched.
  EXPECT_EQ(Registry::global().find("duplicate_plugin_scale"), nullptr);
  ASSERT_NE(Registry::global().find("linear"), nullptr);
  EXPECT_EQ(Registry::global().find("linear")->origin, "");
  EXPECT_NO_THROW(build(YAML::Load("{type: linear, in: 2, out: 2}")));
}

TEST(Plugin, AStaticInitialiserThatThrowsIsAnErrorAndUndone) {
  const std::string e = load_error(plugin("throwing_plugin"));
  EXPECT_NE(e.find("libthrowing_plugin.so"), std::string::npos) << e;
  EXPECT_NE(e.find("threw while loading (in its static initialisers): the plugin's set-up failed on purpose"),
            std::string::npos)
      << e;
  EXPECT_EQ(Registry::global().find("throwing_plugin_scale"), nullptr);
  // The loader is not left mid-load: another plugin loads after it.
  EXPECT_NE(load_error(plugin("empty_plugin")).find("registers no layer"), std::string::npos);
}

TEST(Plugin, AnotherGauVersionIsRefusedBeforeLoading) {
  const std::string e = load_error(plugin("other_version_plugin"));
  EXPECT_NE(e.find("was built against gau 9.9.9"), std::string::npos) << e;
  EXPECT_NE(e.find(std::string("this is gau ") + version()), std::string::npos) << e;
  EXPECT_NE(e.find("rebuild the plugin"), std::string::npos) << e;
  EXPECT_EQ(Registry::global().find("other_version_scale"), nullptr);
}

TEST(Plugin, ConfigPathsAreRelativeToTheConfigFile) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "configs");
  const fs::path relative = fs::relative(plugin("good_plugin"), dir.path() / "configs");
  test::write_bytes(dir.path() / "configs" / "run.yaml",
                    "plugins: [" + relative.string() + "]\n"
                    "model: {type: plugin_scale, dim: 4}\n"
                    "data: {source: synthetic, task: {type: copy}, seq_len: 32, batch_size: 2}\n");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());  // the path must not depend on where gau runs
  const YAML::Node resolved = config::resolve_config(config::load_config("configs/run.yaml"));
  fs::current_path(cwd);
  ASSERT_TRUE(resolved["plugins"].IsSequence());
  ASSERT_EQ(resolved["plugins"].size(), 1u);
  EXPECT_EQ(fs::canonical(resolved["plugins"][0].as<std::string>()), fs::canonical(plugin("good_plugin")));
  EXPECT_EQ(resolved["model"]["type"].as<std::string>(), "plugin_scale");
}

TEST(Plugin, AConfigErrorNamesTheEntry) {
  test::TempDir dir;
  test::write_bytes(dir.path() / "run.yaml", "plugins: [libmissing.so]\nmodel: {type: linear, in: 2, out: 2}\n");
  try {
    config::resolve_config(config::load_config((dir.path() / "run.yaml").string()));
    FAIL() << "a missing plugin must be an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find((dir.path() / "libmissing.so").string()), std::string::npos) << m;
    EXPECT_NE(m.find("run.yaml:1:11"), std::string::npos) << m;
    EXPECT_NE(m.find("no such file"), std::string::npos) << m;
  }
  test::write_bytes(dir.path() / "bad.yaml", "plugins: libx.so\n");
  try {
    config::resolve_config(config::load_config((dir.path() / "bad.yaml").string()));
    FAIL() << "plugins: must be a list";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected a list of plugin files"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gau::layers
