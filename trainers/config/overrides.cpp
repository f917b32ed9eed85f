#include "trainers/config/overrides.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "core/error.h"

namespace gau::config {

namespace {

// One step of a key path: a map key or a list index.
struct Step {
  std::string key;
  std::optional<size_t> index;
};

// "model.blocks[1].chunk" -> model, blocks, [1], chunk.
std::vector<Step> parse_path(const std::string& path, const std::string& text) {
  std::vector<Step> steps;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const size_t bracket = part.find('[');
    const std::string key = part.substr(0, bracket);
    GAU_CHECK(!key.empty(), "--set ", text, ": empty key in the path '", path, "' (write key.path=value)");
    steps.push_back({key, std::nullopt});
    size_t i = bracket;
    while (i != std::string::npos && i < part.size()) {
      const size_t close = part.find(']', i);
      const std::string digits = close == std::string::npos ? "" : part.substr(i + 1, close - i - 1);
      const bool ok = part[i] == '[' && !digits.empty() &&
                      std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); });
      GAU_CHECK(ok, "--set ", text, ": bad list index in '", part, "' (write key[0])");
      steps.push_back({"", std::stoul(digits)});
      i = close + 1;
    }
    if (dot == std::string::npos) return steps;
    start = dot + 1;
  }
}

std::string step_text(const Step& step) {
  if (!step.index) return step.key;
  std::string text = "[";
  return text.append(std::to_string(*step.index)).append("]");
}

std::string joined(const std::string& at, const Step& step) {
  if (step.index || at.empty()) return at + step_text(step);
  return at + "." + step.key;
}

std::string kind(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return std::string("a list of ") + std::to_string(node.size());
  if (node.IsNull()) return "null";
  return "a scalar ('" + node.Scalar() + "')";
}

}  // namespace

void apply_override(YAML::Node root, const std::string& text, Sources& sources) {
  const size_t eq = text.find('=');
  GAU_CHECK(eq != std::string::npos, "--set ", text, ": expected key.path=value (e.g. optim.lr=3e-4)");
  const std::string path = text.substr(0, eq), value_text = text.substr(eq + 1);
  GAU_CHECK(!path.empty(), "--set ", text, ": empty key path before '=' (e.g. optim.lr=3e-4)");
  GAU_CHECK(!value_text.empty(), "--set ", text, ": no value after '=' (write null for a null value)");
  const std::vector<Step> steps = parse_path(path, text);
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::ParserException& e) {
    GAU_FAIL("--set ", text, ": the value is not valid YAML: ", e.msg, " at column ", e.mark.column + 1);
  }
  sources.add(value, text, true);

  // Walk to the parent of the last step, creating maps where nothing is written yet. The node
  // handles are rebound with reset(): assigning a node to another would change the tree.
  YAML::Node at = root;
  std::string at_path;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    const bool last = i + 1 == steps.size();
    const std::string where = at_path.empty() ? "the config" : at_path;
    const std::string pos = sources.position_of(at);
    const std::string shown = where + (pos.empty() ? "" : " (" + pos + ")");
    if (step.index) {
      GAU_CHECK(at.IsSequence(), "--set ", text, ": ", shown, " is ", kind(at), ", not a list: it has no ",
                step_text(step));
      GAU_CHECK(*step.index < at.size(), "--set ", text, ": ", shown, " is ", kind(at), ": it has no ",
                step_text(step));
    } else if (!at.IsMap()) {
      // optim.betas.0=0.9: a list's element is written with brackets.
      const bool number = !step.key.empty() && std::all_of(step.key.begin(), step.key.end(), ::isdigit);
      GAU_FAIL("--set ", text, ": ", shown, " is ", kind(at), ", not a map: it cannot hold the key '", step.key, "'",
               number && at.IsSequence() ? "; to set element " + step.key + ", write " + where + "[" + step.key + "]=" +
                                               value_text
                                         : "");
    }
    if (last) {
      if (step.index) {
        at[*step.index] = value;
      } else {
        at[step.key] = value;
      }
      return;
    }
    YAML::Node next = step.index ? at[*step.index] : at[step.key];
    if (!next.IsDefined() || next.IsNull()) {
      GAU_CHECK(!steps[i + 1].index, "--set ", text, ": ", joined(at_path, step), " is not written, so it has no ",
                step_text(steps[i + 1]));
      next = YAML::Node(YAML::NodeType::Map);
    }
    at.reset(next);
    at_path = joined(at_path, step);
  }
}

}  // namespace gau::config
