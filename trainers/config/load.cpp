#include "trainers/config/load.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "trainers/config/overrides.h"
#include "trainers/config/sources.h"

namespace gau::config {

namespace {

namespace fs = std::filesystem;

std::string mark_text(const YAML::Mark& mark) {
  return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// The files being loaded, outermost first: for cycles.
struct Stack {
  std::vector<std::string> display;
  std::vector<fs::path> canonical;
};

// The scalar `type:` of a map, or "".
std::string type_of(const YAML::Node& map) {
  const YAML::Node t = map["type"];
  return t && t.IsScalar() ? t.Scalar() : "";
}

// `over` gains every key of `base` it lacks; a key both hold as maps merges the same way, unless
// both name a `type:` and the two differ (a cosine schedule's keys mean nothing to a constant one), in
// which case `over`'s map replaces base's whole. A null in `over` keeps base's value out; the
// nulls themselves are dropped once everything is merged (drop_nulls). `over` is changed in
// place, so its nodes keep their marks, and base's nodes move in whole.
void merge_into(YAML::Node over, const YAML::Node& base) {
  for (auto it = base.begin(); it != base.end(); ++it) {
    const YAML::Node& const_over = over;
    const YAML::Node mine = const_over[it->first.Scalar()];
    if (!mine) {
      over.force_insert(it->first, it->second);
    } else if (mine.IsMap() && it->second.IsMap()) {
      const std::string mine_type = type_of(mine), base_type = type_of(it->second);
      if (mine_type.empty() || base_type.empty() || mine_type == base_type) merge_into(mine, it->second);
    }
  }
}

// A file's `plugins:` adds to its bases' (theirs first, each once) rather than replacing them, so
// a base config that uses a plugin's layer keeps it loaded: a list elsewhere replaces, as YAML
// merges go, but a layer type missing its plugin is never what a child config means.
void merge_plugins(YAML::Node root, const YAML::Node& base) {
  const YAML::Node& const_root = root;
  const YAML::Node mine = const_root["plugins"], theirs = base["plugins"];
  if (!mine || !theirs || !mine.IsSequence() || !theirs.IsSequence()) return;
  YAML::Node both(YAML::NodeType::Sequence);
  auto add = [&](const YAML::Node& entry) {
    for (size_t i = 0; i < both.size(); ++i)
      if (entry.IsScalar() && both[i].IsScalar() && both[i].Scalar() == entry.Scalar()) return;
    both.push_back(entry);
  };
  for (size_t i = 0; i < theirs.size(); ++i) add(theirs[i]);
  for (size_t i = 0; i < mine.size(); ++i) add(mine[i]);
  root["plugins"] = both;
}

// Removes every map entry whose value is null (`key: null`, `key: ~` or `key:`): how a config
// or an override deletes a key it inherited.
void drop_nulls(YAML::Node node) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) drop_nulls(node[i]);
    return;
  }
  if (!node.IsMap()) return;
  std::vector<std::string> nulls;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->second.IsNull())
      nulls.push_back(it->first.Scalar());
    else
      drop_nulls(it->second);
  }
  for (const std::string& key : nulls) node.remove(key);
}

// yaml-cpp keeps both entries of a key written twice in one map, and a lookup finds only the
// first, so the second would be ignored without a word.
void reject_duplicate_keys(const YAML::Node& node, const std::string& file) {
  if (node.IsSequence())
    for (size_t i = 0; i < node.size(); ++i) reject_duplicate_keys(node[i], file);
  if (!node.IsMap()) return;
  std::vector<std::pair<std::string, YAML::Mark>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    const auto first = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == key; });
    GAU_CHECK(first == seen.end(), file, ":", mark_text(it->first.Mark()), ": key '", key,
              "' is written twice in one map (first at ", mark_text(first->second),
              "); YAML keeps only one of them, so merge the two into one entry");
    seen.emplace_back(key, it->first.Mark());
    reject_duplicate_keys(it->second, file);
  }
}

// The file names a `base:` value lists, with their nodes (for positions).
std::vector<YAML::Node> base_entries(const YAML::Node& base, const std::string& file) {
  std::vector<YAML::Node> entries;
  if (base.IsScalar()) entries.push_back(base);
  if (base.IsSequence())
    for (size_t i = 0; i < base.size(); ++i) entries.push_back(base[i]);
  const bool ok = !base.IsMap() && std::all_of(entries.begin(), entries.end(),
                                               [](const YAML::Node& e) { return e.IsScalar() && !e.Scalar().empty(); });
  GAU_CHECK(ok, file, ":", mark_text(base.Mark()), ": base: expected a file name or a list of file names");
  return entries;
}

YAML::Node parse_file(const std::string& file) {
  try {
    YAML::Node root = YAML::LoadFile(file);
    if (!root || root.IsNull()) return YAML::Node(YAML::NodeType::Map);
    GAU_CHECK(root.IsMap(), file, ":", mark_text(root.Mark()), ": expected a map of sections (model:, train:, ...)");
    reject_duplicate_keys(root, file);
    return root;
  } catch (const YAML::ParserException& e) {
    GAU_FAIL(file, ":", mark_text(e.mark), ": YAML syntax error: ", e.msg);
  } catch (const YAML::BadFile&) {
    GAU_FAIL("config file '", file, "' cannot be read");
  }
}

// A relative entry of a file's `plugins:` list names a file beside the config, as base: does; it is
// made absolute here, before merging moves it into a config read from elsewhere. A list that is
// not one of file names is left for the plugins section to reject at its position.
void absolute_plugin_paths(YAML::Node root, const std::string& file) {
  YAML::Node plugins = static_cast<const YAML::Node&>(root)["plugins"];
  if (!plugins || !plugins.IsSequence()) return;
  for (size_t i = 0; i < plugins.size(); ++i) {
    YAML::Node entry = plugins[i];
    if (!entry.IsScalar() || entry.Scalar().empty() || fs::path(entry.Scalar()).is_absolute()) continue;
    entry = fs::absolute(fs::path(file).parent_path() / entry.Scalar()).lexically_normal().string();
  }
}

// The config of `file` with its bases merged in. `included_at` is where the including file
// names it ("" for the file asked for).
YAML::Node load_file(const std::string& file, const std::string& included_at, Stack& stack, Sources& sources,
                     std::vector<std::string>& files) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    const std::string why = fs::is_directory(file, ec) ? "' is a directory, not a YAML file" : "' not found";
    if (included_at.empty()) GAU_FAIL("config file '", file, why);
    GAU_FAIL(included_at, ": base file '", file, why);
  }
  const fs::path canonical = fs::weakly_canonical(file);
  const auto seen = std::find(stack.canonical.begin(), stack.canonical.end(), canonical);
  if (seen != stack.canonical.end()) {
    std::string cycle;
    for (size_t i = seen - stack.canonical.begin(); i < stack.display.size(); ++i) cycle += stack.display[i] + " -> ";
    GAU_FAIL(included_at, ": base cycle: ", cycle, file);
  }

  YAML::Node root = parse_file(file);
  absolute_plugin_paths(root, file);
  sources.add(root, file, false);
  const YAML::Node base = static_cast<const YAML::Node&>(root)["base"];
  if (!base || base.IsNull()) {
    root.remove("base");
    files.push_back(file);
    return root;
  }
  const std::vector<YAML::Node> entries = base_entries(base, file);
  root.remove("base");

  stack.display.push_back(file);
  stack.canonical.push_back(canonical);
  YAML::Node merged;
  for (const YAML::Node& entry : entries) {
    const std::string path = (fs::path(file).parent_path() / entry.Scalar()).lexically_normal().string();
    YAML::Node next = load_file(path, file + ":" + mark_text(entry.Mark()), stack, sources, files);
    if (merged) {
      merge_plugins(next, merged);
      merge_into(next, merged);
    }
    merged.reset(next);
  }
  stack.display.pop_back();
  stack.canonical.pop_back();

  if (merged) merge_plugins(root, merged);
  merge_into(root, merged);
  files.push_back(file);
  return root;
}

}  // namespace

YAML::Node section_of(const YAML::Node& root, const std::string& name) {
  const YAML::Node v = root[name];
  return v ? v : YAML::Node(YAML::NodeType::Undefined);
}

LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  LoadedConfig config;
  config.file = path;
  config.overrides = overrides;
  Sources sources;
  Stack stack;
  config.root = load_file(path, "", stack, sources, config.files);
  for (const std::string& text : overrides) apply_override(config.root, text, sources);
  drop_nulls(config.root);
  config.origins = sources.origins_of(config.root);
  return config;
}

}  // namespace gau::config
