#include "trainers/config/yaml_text.h"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace gau::config {

std::string format_number(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

namespace {

// What yaml-cpp's convert<double>::encode writes for v.
std::string yaml_cpp_encoding(double v) {
  std::ostringstream os;
  os.precision(std::numeric_limits<double>::max_digits10);
  os << v;
  return os.str();
}

void tidy(YAML::Node node) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) tidy(it->second);
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) tidy(node[i]);
  } else if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    // Integers stay as written: 1000000, not the shorter 1e+06, which reads back as a float.
    if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos) return;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == '\0' && s == yaml_cpp_encoding(v)) node = format_number(v);
  }
}

bool all_scalars(const YAML::Node& seq) {
  for (size_t i = 0; i < seq.size(); ++i)
    if (seq[i].IsMap() || seq[i].IsSequence()) return false;
  return true;
}

// Block style, but a list of scalars or an empty map on one line: betas: [0.9, 0.95],
// lr_multipliers: {} (block style would put the {} on a line of its own).
void emit(YAML::Emitter& out, const YAML::Node& node) {
  if (node.IsMap()) {
    if (node.size() == 0) out << YAML::Flow;
    out << YAML::BeginMap;
    for (auto it = node.begin(); it != node.end(); ++it) {
      out << YAML::Key << it->first << YAML::Value;
      emit(out, it->second);
    }
    out << YAML::EndMap;
  } else if (node.IsSequence()) {
    if (all_scalars(node)) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (size_t i = 0; i < node.size(); ++i) emit(out, node[i]);
    out << YAML::EndSeq;
  } else {
    out << node;
  }
}

}  // namespace

YAML::Node tidy_numbers(const YAML::Node& node) {
  YAML::Node copy = YAML::Clone(node);
  tidy(copy);
  return copy;
}

std::string to_yaml(const YAML::Node& node, bool flow) {
  YAML::Emitter out;
  if (flow) {
    out << YAML::Flow << node;
  } else {
    emit(out, node);
  }
  return out.c_str();
}

}  // namespace gau::config
