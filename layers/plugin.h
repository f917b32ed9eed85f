#pragma once
// Plugins: shared libraries of users' layers that `gau train` loads without being rebuilt.
//
// A plugin is a shared library linked against gau (gau::gau) with one declaration line in one
// of its files and a GAU_REGISTER_LAYER line per layer (layers/registry.h):
//
//   #include "layers/plugin.h"
//   GAU_PLUGIN("my_layers");
//   GAU_REGISTER_LAYER("gated_conv", GatedConv);
//
// and a config lists it (paths relative to the config file that names them):
//
//   plugins: [build/libmy_layers.so]
//   model: {type: language_model, blocks: {type: gated_conv}, ...}
//
// Why a declaration and not just the registrations: GAU_PLUGIN writes a record into an ELF
// section of its own (.gau_plugin) with the gau version the plugin was compiled against. The
// loader reads that section from the file before it dlopens it, because dlopen runs the plugin's
// static initialisers, its registrations among them, and a plugin built against another gau would
// call into this library with another layout of its types. So the record is checked first and a
// mismatch is refused with both versions named; nothing of the plugin runs.
//
// The loader's errors name the plugin and what is wrong: a missing file, a file that is not a
// shared library, a shared library without GAU_PLUGIN (not a gau plugin), another gau version, a
// failing dlopen (its message, e.g. an undefined symbol), a plugin that registers no layer, and a
// layer name that is already registered (by gau or an earlier plugin). Loading the same file
// twice is a no-op, so a run can load its plugins and then a checkpoint naming the same ones.
#include <cstdint>
#include <string>
#include <vector>

#include "core/version.h"

namespace gau::layers {

// The plugin ABI: bumped whenever PluginRecord's layout changes. The gau version must also match
// exactly, since gau's C++ types (Tensor, Module, LayerType) have no stable ABI across versions.
inline constexpr uint32_t kPluginAbi = 1;

// What GAU_PLUGIN writes into the .gau_plugin section. Plain bytes, so that the loader can read it
// from the file without loading the library.
struct PluginRecord {
  char magic[16];        // "gau-plugin"
  uint32_t abi;          // kPluginAbi when compiled
  char gau_version[24];  // GAU_VERSION_STRING when compiled
  char name[64];         // the plugin's name, as given to GAU_PLUGIN
};

// A loaded plugin.
struct LoadedPlugin {
  std::string path;                 // the file, canonical
  std::string name;                 // from GAU_PLUGIN
  std::vector<std::string> layers;  // the layer types it registered; empty for a library the
                                    // program already linked (its layers registered at start-up)
};

// Loads the plugin at `path` (a canonical copy of the same file loads once: the second call
// returns the first's record). `named_at` says where it was asked for, for errors (e.g.
// "configs/x.yaml:3:11"). Throws gau::Error as described above.
LoadedPlugin load_plugin(const std::string& path, const std::string& named_at = "");

// The plugins loaded so far, in load order.
std::vector<LoadedPlugin> loaded_plugins();

// What the loader reads from a file without loading it: the record, or an error message saying
// why there is none (not a file, not an ELF shared library, no .gau_plugin section, a bad record).
struct PluginFileInfo {
  bool ok = false;
  PluginRecord record{};
  std::string error;
};
PluginFileInfo read_plugin_record(const std::string& path);

}  // namespace gau::layers

// The record is `used` and `retain`ed so that neither the compiler nor --gc-sections drops a
// symbol nothing references; extern "C" gives it one unmangled name per plugin.
#define GAU_PLUGIN(plugin_name)                                                           \
  extern "C" __attribute__((used, retain, section(".gau_plugin"), visibility("default"))) \
  const ::gau::layers::PluginRecord gau_plugin_record = {                                 \
      "gau-plugin", ::gau::layers::kPluginAbi, GAU_VERSION_STRING, plugin_name}
