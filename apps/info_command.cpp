#include "apps/info_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/system_info.h"
#include "layers/plugin.h"

namespace gau::apps {

namespace {

void print_human(const nlohmann::json& info) {
  std::cout << "gau " << info["version"].get<std::string>() << "\n";
  std::cout << "backends:";
  for (const auto& [name, on] : info["backends"].items()) std::cout << " " << name << (on.get<bool>() ? "=on" : "=off");
  std::cout << "\n";
  const auto& gpus = info["gpus"];
  std::cout << "GPUs found: " << gpus.size() << "\n";
  for (const auto& g : gpus) {
    std::cout << "  cuda:" << g["index"].get<int>();
    if (g.contains("name")) std::cout << "  " << g["name"].get<std::string>();
    if (g.contains("compute_capability")) std::cout << "  sm " << g["compute_capability"].get<std::string>();
    if (g.contains("memory_gib")) std::cout << "  " << static_cast<int>(g["memory_gib"].get<double>()) << " GiB";
    std::cout << "\n";
  }
  const auto& blas = info["blas"];
  std::cout << "BLAS: " << blas["config"].get<std::string>() << " (core " << blas["core"].get<std::string>() << ")\n";
  const auto& threads = info["threads"];
  std::cout << "Threads: OpenMP " << threads["openmp"].get<int>() << ", OpenBLAS " << threads["openblas"].get<int>();
  if (threads["agree"].get<bool>()) {
    std::cout << " (the same)";
  } else {
    // OpenBLAS reads OPENBLAS_NUM_THREADS first and OMP_NUM_THREADS only without it, so the two
    // part when only the first is set; gau's loops and its GEMMs then size the cores differently.
    std::cout << " (they differ: OpenBLAS takes OPENBLAS_NUM_THREADS over OMP_NUM_THREADS; set both alike, "
                 "or call gau::set_num_threads, which sets both)";
  }
  std::cout << "; hardware threads " << threads["hardware"].get<unsigned>() << "\n";
}

// Each plugin loaded as `gau train` would load it (layers/plugin.h); the loader's error, naming
// what is wrong, ends the command otherwise. A plugin that loads was built against this gau's
// version exactly, so its version is the "version" above.
nlohmann::json plugin_info(const std::vector<std::string>& paths) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& path : paths) {
    const layers::LoadedPlugin p = layers::load_plugin(path, "--plugin");
    out.push_back({{"path", p.path}, {"name", p.name}, {"layers", p.layers}});
  }
  return out;
}

void print_plugins(const nlohmann::json& plugins) {
  for (const auto& p : plugins) {
    std::cout << "plugin " << p["name"].get<std::string>() << " (" << p["path"].get<std::string>() << "), layers:";
    for (const auto& l : p["layers"]) std::cout << " " << l.get<std::string>();
    std::cout << "\n";
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Version, backends compiled in, GPUs found, BLAS and threads");
  auto json = std::make_shared<bool>(false);
  auto plugins = std::make_shared<std::vector<std::string>>();
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->add_option("--plugin", *plugins,
                  "Also load these plugins (shared libraries with GAU_PLUGIN) and list their layers, or say why not");
  cmd->footer("Examples:\n  gau info\n  gau info --plugin build/libgau_custom.so");
  cmd->callback([json, plugins] {
    nlohmann::json info = system_info();
    if (!plugins->empty()) info["plugins"] = plugin_info(*plugins);
    if (*json) {
      std::cout << info.dump(2) << "\n";
    } else {
      print_human(info);
      if (info.contains("plugins")) print_plugins(info["plugins"]);
    }
  });
}

}  // namespace gau::apps
