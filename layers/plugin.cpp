#include "layers/plugin.h"

#include <dlfcn.h>
#include <elf.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/error.h"
#include "layers/registry.h"

namespace gau::layers {

namespace {

namespace fs = std::filesystem;

constexpr char kMagic[] = "gau-plugin";
constexpr char kSection[] = ".gau_plugin";

// A fixed-size char field as a string, stopping at its first NUL (or its end, if it has none).
std::string field(const char* data, size_t size) { return std::string(data, strnlen(data, size)); }

template <typename T>
bool read_at(std::ifstream& in, uint64_t offset, T* out, size_t count = 1) {
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(sizeof(T) * count));
  return static_cast<bool>(in);
}

struct PluginTable {
  std::mutex mutex;
  std::vector<LoadedPlugin> plugins;
};

PluginTable& table() {
  static PluginTable t;
  return t;
}

}  // namespace

PluginFileInfo read_plugin_record(const std::string& path) {
  PluginFileInfo info;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    info.error = "cannot be read";
    return info;
  }
  Elf64_Ehdr header{};
  if (!read_at(in, 0, &header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    info.error = "is not a shared library (no ELF header)";
    return info;
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN) {
    info.error = "is not a 64-bit ELF shared library";
    return info;
  }
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shstrndx == SHN_UNDEF || header.e_shnum == 0) {
    info.error = "has no section table to look for GAU_PLUGIN's record in";
    return info;
  }
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  if (!read_at(in, header.e_shoff, sections.data(), sections.size()) || header.e_shstrndx >= header.e_shnum) {
    info.error = "has a truncated section table";
    return info;
  }
  const Elf64_Shdr& names = sections[header.e_shstrndx];
  std::string name_table(names.sh_size, '\0');
  if (!read_at(in, names.sh_offset, name_table.data(), name_table.size())) {
    info.error = "has a truncated section name table";
    return info;
  }
  for (const Elf64_Shdr& s : sections) {
    if (s.sh_name >= name_table.size() || std::strcmp(name_table.c_str() + s.sh_name, kSection) != 0) continue;
    if (s.sh_size < sizeof(PluginRecord) || !read_at(in, s.sh_offset, &info.record) ||
        field(info.record.magic, sizeof(info.record.magic)) != kMagic) {
      info.error = "has a .gau_plugin section that does not hold a GAU_PLUGIN record";
      return info;
    }
    info.ok = true;
    return info;
  }
  info.error = "is a shared library but not a gau plugin: it has no GAU_PLUGIN(\"name\") line (layers/plugin.h)";
  return info;
}

LoadedPlugin load_plugin(const std::string& path, const std::string& named_at) {
  const std::string asked = "plugin '" + path + "'" + (named_at.empty() ? "" : " (" + named_at + ")");
  std::error_code ec;
  GAU_CHECK(fs::exists(path, ec), asked, ": no such file");
  GAU_CHECK(fs::is_regular_file(path, ec), asked, ": not a regular file");
  const std::string canonical = fs::canonical(path).string();

  PluginTable& loaded = table();
  std::lock_guard<std::mutex> lock(loaded.mutex);
  for (const LoadedPlugin& p : loaded.plugins)
    if (p.path == canonical) return p;

  const PluginFileInfo info = read_plugin_record(canonical);
  GAU_CHECK(info.ok, asked, " ", info.error);
  const std::string built_for = field(info.record.gau_version, sizeof(info.record.gau_version));
  GAU_CHECK(info.record.abi == kPluginAbi && built_for == version(), asked, " was built against gau ", built_for,
            " (plugin ABI ", info.record.abi, "), but this is gau ", version(), " (plugin ABI ", kPluginAbi,
            "): rebuild the plugin against this gau");

  const std::string name = field(info.record.name, sizeof(info.record.name));
  // A library the program links (or dlopen'ed itself) is in the process already: its
  // registrations ran at start-up, as the program's, and dlopen would run nothing. RTLD_NOLOAD
  // asks without loading; the reference it takes is dropped at once.
  if (void* resident = dlopen(canonical.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
    dlclose(resident);
    LoadedPlugin plugin{canonical, name, {}};
    loaded.plugins.push_back(plugin);
    return plugin;
  }

  Registry& registry = Registry::global();
  registry.begin_plugin(canonical);
  // RTLD_NOW: an undefined symbol is an error here, not a crash at the first call. RTLD_LOCAL:
  // plugins do not see each other's symbols, so two may define the same helper.
  void* handle = nullptr;
  // glibc declares dlopen noexcept, so a try around a plain call would be compiled away; the
  // plugin's static initialisers can throw all the same. A volatile pointer keeps the call opaque.
  void* (*volatile open_library)(const char*, int) = &dlopen;
  try {
    handle = open_library(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  } catch (...) {
    // A static initialiser of the plugin threw (through dlopen, which glibc lets pass): undo its
    // registrations so that the registry and later loads are as before.
    registry.end_plugin();
    registry.abort_plugin(canonical);
    std::string what = "an exception that is not a std::exception";
    try {
      throw;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    GAU_FAIL(asked, " threw while loading (in its static initialisers): ", what);
  }
  const char* dl_error = handle == nullptr ? dlerror() : nullptr;
  Registry::PluginRegistrations registered = registry.end_plugin();
  std::string failure;
  if (handle == nullptr) {
    failure = std::string("could not be loaded: ") + (dl_error ? dl_error : "dlopen failed");
  } else if (!registered.errors.empty()) {
    failure = registered.errors.front();
  } else if (registered.names.empty()) {
    failure = "registers no layer: add a GAU_REGISTER_LAYER(\"name\", Class) line (layers/registry.h)";
  }
  if (!failure.empty()) {
    registry.abort_plugin(canonical);
    if (handle != nullptr) dlclose(handle);
    GAU_FAIL(asked, " ", failure);
  }
  // The handle is kept open for the life of the process: the registry holds the plugin's factories.
  LoadedPlugin plugin{canonical, name, registered.names};
  loaded.plugins.push_back(plugin);
  return plugin;
}

std::vector<LoadedPlugin> loaded_plugins() {
  PluginTable& loaded = table();
  std::lock_guard<std::mutex> lock(loaded.mutex);
  return loaded.plugins;
}

}  // namespace gau::layers
