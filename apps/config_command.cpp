#include "apps/config_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "layers/config_reader.h"
#include "layers/plugin.h"
#include "layers/registry.h"
#include "optim/factory.h"
#include "trainers/config/load.h"
#include "trainers/config/resolve.h"
#include "trainers/config/schema.h"

namespace gau::apps {

namespace {

struct ConfigArgs {
  std::string file;
  std::vector<std::string> overrides;
  bool dump = false;
  std::string keys_section;
  std::vector<std::string> plugins;  // loaded first, so that --keys lists their layers
};

std::string summary(const config::LoadedConfig& loaded, const YAML::Node& resolved, const layers::Module& model) {
  std::string out = loaded.file + ": valid";
  const std::string type = resolved["model"]["type"].as<std::string>();
  if (type == "language_model" || type == "masked_lm")
    out += "; model: " + type + " of " + std::to_string(model.parameter_count()) + " parameters";
  out += "\n  files: " + layers::comma_list(loaded.files);
  for (const std::string& o : loaded.overrides) out += "\n  --set " + o;
  return out + "\n";
}

// What the config alone cannot show: the optimizer's parameter patterns against the names of the
// model it builds (as gau train does, before its first step).
void check_against_model(const config::LoadedConfig& loaded, const YAML::Node& resolved, const layers::Module& model) {
  std::vector<std::string> names;
  for (const auto& [name, parameter] : model.named_parameters()) names.push_back(name);
  const layers::ConfigOriginsScope scope(loaded.origins);
  layers::ConfigReader r(resolved["optim"], "optim");
  optim::check_group_patterns(r, names);
}

void run_config(const ConfigArgs& args, bool keys) {
  GAU_CHECK(args.plugins.empty() || keys, "gau config: --plugin goes with --keys; a config loads its plugins itself, "
            "from its plugins: list (as gau train does)");
  for (const std::string& path : args.plugins) layers::load_plugin(path, "--plugin");
  if (keys) {
    std::cout << config::describe_schema(args.keys_section);
    return;
  }
  GAU_CHECK(!args.file.empty(), "gau config: give a CONFIG file (or --keys to list the keys)");
  const config::LoadedConfig loaded = config::load_config(args.file, args.overrides);
  const YAML::Node resolved = config::resolve_config(loaded);
  const std::shared_ptr<layers::Module> model = layers::build(resolved["model"], "model");
  check_against_model(loaded, resolved, *model);
  std::cout << (args.dump ? config::dump_config(resolved) : summary(loaded, resolved, *model));
}

}  // namespace

void add_config_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("config", "Check a config, print it fully resolved (--dump), or list the keys");
  auto args = std::make_shared<ConfigArgs>();
  cmd->add_option("config", args->file, "the YAML config (its base: files are merged in)");
  cmd->add_option("--set", args->overrides, "override a key: key.path=value, the value as YAML (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--dump", args->dump, "print the resolved config: bases merged, overrides applied, defaults filled in");
  auto* keys = cmd->add_option("--keys", args->keys_section,
                               "list every section's keys with type and default, by type where they depend on "
                               "one (or one SECTION's, or one SECTION.TYPE's)")
                   ->expected(0, 1);
  cmd->add_option("--plugin", args->plugins, "load this plugin first, so that --keys lists its layers (repeatable)")
      ->allow_extra_args(false);
  cmd->footer(
      "Examples:\n"
      "  gau config configs/default.yaml                       check it (exit 1 with file:line:column if not)\n"
      "  gau config configs/default.yaml --dump                every key, defaults included\n"
      "  gau config configs/default.yaml --set optim.lr=3e-4 --set model.blocks.type=flash --dump\n"
      "  gau config configs/default.yaml --set 'model.blocks=[{type: gau}, {type: transformer_pp, heads: 4}]' \\\n"
      "      --set model.layers=null                           a list of blocks (null drops the inherited count)\n"
      "  gau config --keys train                               the train: section's keys\n"
      "  gau config --keys optim.adamw                         the keys of one optimizer type\n"
      "  gau config --keys model.gau                           the keys of a GAU block\n"
      "  gau config --keys model.gated_conv --plugin build/libgau_custom.so   a plugin's layer");
  cmd->callback([args, keys] { run_config(*args, keys->count() > 0); });
}

}  // namespace gau::apps
