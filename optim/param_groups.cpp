#include "optim/param_groups.h"

#include <algorithm>

namespace gau::optim {

bool glob_match(const std::string& pattern, const std::string& name) {
  // Iterative matcher with one backtrack point: the last `*` seen and where it started matching.
  size_t p = 0, n = 0, star = std::string::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p, ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, star_n = n;
    } else if (star != std::string::npos) {
      p = star + 1, n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

bool matches_any(const std::vector<std::string>& names, const std::string& pattern) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) { return glob_match(pattern, name); });
}

struct Settings {
  double lr_scale = 1, weight_decay = 0;
  bool operator==(const Settings&) const = default;
};

Settings settings_of(const std::string& name, const GroupRules& rules, double weight_decay) {
  Settings s;
  s.weight_decay = weight_decay;
  for (const std::string& p : rules.no_decay)
    if (glob_match(p, name)) s.weight_decay = 0;
  for (const auto& [p, mult] : rules.lr_multipliers) {
    if (glob_match(p, name)) {
      s.lr_scale = mult;
      break;
    }
  }
  return s;
}

}  // namespace

std::vector<std::string> parameter_names(const layers::FlatParameters& flat) {
  std::vector<std::string> names;
  for (const layers::FlatGroup& g : flat.groups())
    for (const layers::FlatEntry& e : g.entries) names.push_back(e.name);
  return names;
}

std::string unmatched_pattern(const GroupRules& rules, const std::vector<std::string>& names) {
  for (const std::string& p : rules.no_decay)
    if (!matches_any(names, p)) return p;
  for (const auto& [p, mult] : rules.lr_multipliers)
    if (!matches_any(names, p)) return p;
  return "";
}

std::string some_parameter_names(const std::vector<std::string>& names, size_t count) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < count; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > count) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

std::vector<KernelRange> group_ranges(const layers::FlatGroup& group, const GroupRules& rules, double weight_decay,
                                      bool merge) {
  std::vector<KernelRange> ranges;
  Settings last;
  for (const layers::FlatEntry& e : group.entries) {
    const Settings s = settings_of(e.name, rules, weight_decay);
    if (merge && !ranges.empty() && s == last) {
      ranges.back().numel = e.offset + e.numel - ranges.back().offset;
      continue;
    }
    KernelRange r;
    r.offset = e.offset;
    r.numel = e.numel;
    if (e.param.dim() >= 2) {
      r.cols = e.param.size(-1);
      r.rows = r.cols > 0 ? e.numel / r.cols : 0;
    }
    r.lr_scale = s.lr_scale;
    r.weight_decay = s.weight_decay;
    ranges.push_back(r);
    last = s;
  }
  if (merge)
    for (KernelRange& r : ranges) r.rows = 1, r.cols = 0;  // a merged range has no matrix view
  return ranges;
}

}  // namespace gau::optim
