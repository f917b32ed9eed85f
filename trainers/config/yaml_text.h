#pragma once
// YAML as gau prints it: numbers in their shortest exact form, configs in block style.
#include <yaml-cpp/yaml.h>

#include <string>

namespace gau::config {

// The shortest text that reads back as exactly `v`: 0.0003, 1e-08, 2048.
std::string format_number(double v);

// A deep copy of `node` in which every number yaml-cpp encoded with 17 significant digits
// (YAML::Node(3e-4) holds "0.00029999999999999997") holds its shortest form instead. Other
// scalars, strings that merely look like numbers among them, are left as they are.
YAML::Node tidy_numbers(const YAML::Node& node);

// `node` as YAML text: block style (the config files' layout), or one flow line.
std::string to_yaml(const YAML::Node& node, bool flow = false);

}  // namespace gau::config
