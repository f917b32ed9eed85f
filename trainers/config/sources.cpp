#include "trainers/config/sources.h"

#include <regex>

namespace gau::config {

namespace {

std::string with_mark(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool same(const YAML::Mark& a, const YAML::Mark& b) {
  return a.pos == b.pos && a.line == b.line && a.column == b.column;
}

// visit(node, path, key mark) for `node` and everything under it (the key mark is null for the
// root and list elements).
template <typename F>
void walk(const YAML::Node& node, const std::string& path, const YAML::Mark& key_mark, const F& visit) {
  visit(node, path, key_mark);
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      walk(it->second, path.empty() ? key : path + "." + key, it->first.Mark(), visit);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      walk(node[i], path + "[" + std::to_string(i) + "]", YAML::Mark::null_mark(), visit);
  }
}

}  // namespace

void Sources::add(const YAML::Node& root, const std::string& text, bool is_override) {
  sources_.push_back({text, is_override});
  walk(root, "", YAML::Mark::null_mark(), [&](const YAML::Node& node, const std::string&, const YAML::Mark&) {
    nodes_.emplace_back(node, sources_.size() - 1);
  });
}

const Sources::Source* Sources::find(const YAML::Node& node) const {
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it)
    if (it->first.is(node)) return &sources_[it->second];
  return nullptr;
}

std::string Sources::position_of(const YAML::Node& node) const {
  const Source* source = find(node);
  if (source == nullptr) return "";
  if (source->is_override) return "--set " + source->text;
  return with_mark(source->text, node.Mark());
}

void Origins::set(const std::string& path, Source source) { by_path_[path] = std::move(source); }

const Origins::Source* Origins::find(const std::string& path) const {
  if (const auto it = by_path_.find(path); it != by_path_.end()) return &it->second;
  // A node the config does not write itself, nearest first: a block of a uniform stack
  // (model.blocks[2] from model.blocks), then a key a reader added under a written node.
  std::string p = std::regex_replace(path, std::regex(R"(\[[0-9]+\])"), "");
  while (!p.empty()) {
    if (const auto it = by_path_.find(p); it != by_path_.end()) return &it->second;
    const size_t dot = p.rfind('.');
    p.resize(dot == std::string::npos ? 0 : dot);
  }
  return nullptr;
}

std::string Origins::position(const std::string& path, const YAML::Mark& mark) const {
  const Source* source = find(path);
  if (source == nullptr) return "";
  if (source->is_override) return "--set " + source->text;
  const bool copied = !same(mark, source->value_mark) && !same(mark, source->key_mark) && same(mark, YAML::Mark());
  return with_mark(source->text, copied ? source->value_mark : mark);
}

std::shared_ptr<const Origins> Sources::origins_of(const YAML::Node& root) const {
  auto origins = std::make_shared<Origins>();
  walk(root, "", YAML::Mark::null_mark(), [&](const YAML::Node& node, const std::string& path, const YAML::Mark& key) {
    if (path.empty()) return;
    if (const Source* source = find(node)) origins->set(path, {source->text, source->is_override, node.Mark(), key});
  });
  return origins;
}

}  // namespace gau::config
