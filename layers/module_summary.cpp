#include "layers/module_summary.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace gau::layers {

namespace {

// Elements of the parameters of `m` and its descendants not already in `seen`.
int64_t count_new(const Module& m, std::set<const TensorImpl*>& seen) {
  int64_t total = 0;
  for (const auto& [name, p] : m.named_parameters())
    if (seen.insert(p.impl_ptr().get()).second) total += p.numel();
  return total;
}

void collect(const Module& m, const std::string& prefix, int depth, std::set<const TensorImpl*>& seen,
             std::vector<ModuleCount>& out) {
  for (const auto& [name, child] : m.named_children()) {
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    if (depth <= 1) {
      out.push_back({full, child->type_name(), count_new(*child, seen)});
      continue;
    }
    // The child's own parameters (not its children's) first, then its children's rows.
    ModuleCount own{full, child->type_name(), 0};
    const size_t at = out.size();
    out.push_back(own);
    std::set<const TensorImpl*> below;
    for (const auto& sub : child->children())
      for (const auto& [n, p] : sub->named_parameters()) below.insert(p.impl_ptr().get());
    for (const auto& [n, p] : child->named_parameters())
      if (!below.count(p.impl_ptr().get()) && seen.insert(p.impl_ptr().get()).second) out[at].parameters += p.numel();
    collect(*child, full, depth - 1, seen, out);
  }
}

std::string with_commas(int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::vector<ModuleCount> parameter_counts(const Module& root, int depth) {
  std::vector<ModuleCount> out;
  std::set<const TensorImpl*> seen;
  std::set<const TensorImpl*> below;
  for (const auto& child : root.children())
    for (const auto& [n, p] : child->named_parameters()) below.insert(p.impl_ptr().get());
  ModuleCount own{"", root.type_name(), 0};
  for (const auto& [n, p] : root.named_parameters())
    if (!below.count(p.impl_ptr().get()) && seen.insert(p.impl_ptr().get()).second) own.parameters += p.numel();
  if (own.parameters > 0) out.push_back(own);
  collect(root, "", std::max(depth, 1), seen, out);
  return out;
}

std::string parameter_summary(const Module& root, int depth) {
  const std::vector<ModuleCount> rows = parameter_counts(root, depth);
  size_t name_w = 5, type_w = 4;
  for (const ModuleCount& r : rows) {
    name_w = std::max(name_w, r.name.empty() ? 6 : r.name.size());
    type_w = std::max(type_w, r.type_name.size());
  }
  std::ostringstream os;
  auto row = [&](const std::string& name, const std::string& type, int64_t count) {
    os << name << std::string(name_w + 2 - name.size(), ' ') << type << std::string(type_w + 2 - type.size(), ' ')
       << with_commas(count) << '\n';
  };
  for (const ModuleCount& r : rows) row(r.name.empty() ? "(self)" : r.name, r.type_name, r.parameters);
  row("total", "", root.parameter_count());
  return os.str();
}

}  // namespace gau::layers
