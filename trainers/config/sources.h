#pragma once
// The sources of a config being loaded: every node of every file parsed and every override, so
// that the merged tree's nodes can be traced back to where they were written. A node keeps its
// identity through the merge (trainers/config/load.cpp moves nodes, never copies them), so a
// merged node is found by identity among the recorded ones.
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "trainers/config/load.h"

namespace gau::config {

class Sources {
 public:
  // Records `root` and every node under it as written in `text` (a file, or an override).
  void add(const YAML::Node& root, const std::string& text, bool is_override);
  // "file:line:column" or "--set key=value" for a recorded node, "" for another.
  std::string position_of(const YAML::Node& node) const;
  // The origins of every node of `root` by config path.
  std::shared_ptr<const Origins> origins_of(const YAML::Node& root) const;

 private:
  struct Source {
    std::string text;
    bool is_override = false;
  };
  // The latest source holding `node`, or null. Latest first: an override that replaces a value
  // takes over the replaced node's identity (yaml-cpp's assignment rebinds the node in place).
  const Source* find(const YAML::Node& node) const;

  std::vector<Source> sources_;
  std::vector<std::pair<YAML::Node, size_t>> nodes_;  // (node, index in sources_)
};

}  // namespace gau::config
