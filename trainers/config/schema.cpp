#include "trainers/config/schema.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "trainers/config/yaml_text.h"

namespace gau::config {

namespace {

std::string shown(const YAML::Node& v) {
  if (v.IsNull()) return "nothing (null)";
  if (v.IsMap()) return "a map";
  if (v.IsSequence()) return "a list";
  return "'" + v.Scalar() + "'";
}

// A list of finite numbers, each in range, or the default when absent.
void read_numbers(layers::ConfigReader& r, const KeySpec& spec) {
  const YAML::Node v = r.raw(spec.name);
  if (!v) {
    r.record(spec.name, YAML::Clone(spec.fallback));
    return;
  }
  if (!v.IsSequence()) r.fail(spec.name, "expected a list of numbers, got " + shown(v));
  YAML::Node out(YAML::NodeType::Sequence);
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string element = "element " + std::to_string(i);
    double x = 0;
    bool ok = v[i].IsScalar();
    if (ok) {
      try {
        x = v[i].as<double>();
      } catch (const YAML::Exception&) {
        ok = false;
      }
    }
    if (!ok) r.fail(spec.name, element + ": expected a number, got " + shown(v[i]));
    if (!std::isfinite(x) || !spec.range.contains(x))
      r.fail(spec.name, element + " must be a finite number " + spec.range.str() + ", got " + format_number(x));
    out.push_back(x);
  }
  r.record(spec.name, out);
}

}  // namespace

std::string KeySpec::type_text() const {
  // Appended rather than "+"-ed: GCC 12 warns falsely (-Wrestrict) on "literal" + a temporary string.
  std::string range_text;
  if (!range.contains(-INFINITY) || !range.contains(INFINITY)) range_text.append(" ").append(range.str());
  switch (type) {
    case KeyType::integer:
      return "integer" + range_text;
    case KeyType::number:
      return "number" + range_text;
    case KeyType::boolean:
      return "true or false";
    case KeyType::string:
      return "string";
    case KeyType::choice:
      return "one of: " + layers::comma_list(choices);
    case KeyType::numbers:
      return "list of numbers" + range_text;
  }
  return "";
}

std::string KeySpec::default_text() const {
  if (type == KeyType::string && fallback.Scalar().empty()) return "\"\"";
  return to_yaml(tidy_numbers(fallback), true);
}

std::vector<KeyGroup> KeySection::key_groups() const {
  KeyGroup group;
  for (const KeySpec& k : keys_) group.rows.push_back({k.name, k.type_text(), k.default_text(), k.help});
  return {group};
}

namespace {

// The node filled in for `key` of the reader at `relative` (its path below the section's,
// dotted; "" for the section's own reader), or an undefined node.
YAML::Node filled_at(const YAML::Node& section, const std::string& relative, const std::string& key) {
  std::vector<std::string> parts;
  for (size_t start = 0; !relative.empty() && start <= relative.size();) {
    const size_t dot = std::min(relative.find('.', start), relative.size());
    parts.push_back(relative.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(key);
  std::vector<YAML::Node> chain{section};  // yaml-cpp's operator= would write into the map
  for (const std::string& part : parts) {
    const YAML::Node& map = chain.back();
    if (!map.IsMap() || !map[part]) return YAML::Node(YAML::NodeType::Undefined);
    chain.push_back(map[part]);
  }
  return chain.back();
}

std::string fallback_text(const layers::ReadKey& key, const YAML::Node& value) {
  if (key.need == layers::ReadKey::Need::required) return "required";
  if (!key.fallback.empty()) return key.fallback;
  if (!value.IsDefined() || value.IsNull()) return "unset";
  if (value.IsScalar() && value.Scalar().empty()) return "\"\"";
  return to_yaml(tidy_numbers(value), true);
}

// Adds the rows of `more` that `rows` lacks, each after the row of the key read before it.
void merge_rows(std::vector<KeyRow>& rows, const std::vector<KeyRow>& more) {
  size_t at = 0;
  for (const KeyRow& row : more) {
    auto same = std::find_if(rows.begin(), rows.end(), [&](const KeyRow& r) { return r.name == row.name; });
    if (same == rows.end()) same = rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(at), row);
    at = static_cast<size_t>(same - rows.begin()) + 1;
  }
}

bool below(const std::string& path, const std::string& key) {
  return path == key || path.rfind(key + ".", 0) == 0;
}

}  // namespace

std::vector<KeyGroup> ReaderSection::key_groups() const {
  std::vector<KeyGroup> groups;
  if (!examples_) return groups;
  for (const Example& example : examples_()) {
    layers::ReadKeyLog log;
    const YAML::Node filled = resolve(YAML::Load(example.yaml));
    std::vector<std::pair<std::string, const layers::ReadKey*>> read;  // the path below the section's
    for (const layers::ReadKey& k : log.keys()) {
      if (!below(k.path, name())) continue;
      const std::string relative = k.path.size() > name().size() ? k.path.substr(name().size() + 1) : "";
      if (nested_ == Nested::own_types && !relative.empty()) continue;
      read.emplace_back(relative, &k);
    }
    std::vector<KeyRow> rows;
    for (const auto& [relative, k] : read) {
      const std::string full = relative.empty() ? k->key : relative + "." + k->key;
      // A nested reader's map (data.tokenizer) is listed as its keys.
      const bool nests = std::any_of(read.begin(), read.end(), [&](const auto& r) { return below(r.first, full); });
      if (k->expected.empty() && nests) continue;
      rows.push_back({full, k->expected.empty() ? "see the header named above" : k->expected,
                      fallback_text(*k, filled_at(filled, relative, k->key)), log.help(k->path, k->key)});
    }
    auto group = std::find_if(groups.begin(), groups.end(), [&](const KeyGroup& g) { return g.type == example.type; });
    if (group == groups.end()) group = groups.insert(groups.end(), {example.type_key, example.type, {}});
    merge_rows(group->rows, rows);
  }
  return groups;
}

void KeySection::add(KeySpec spec) {
  GAU_CHECK(std::none_of(keys_.begin(), keys_.end(), [&](const KeySpec& k) { return k.name == spec.name; }),
            "config section '", name(), "' declares the key '", spec.name, "' twice");
  keys_.push_back(std::move(spec));
}

YAML::Node KeySection::read_keys(
    const YAML::Node& written,
    const std::function<void(const YAML::Node& filled, layers::ConfigReader& r)>& after) const {
  YAML::Node node = written;
  if (written && written.IsScalar() && !shorthand_.empty()) {
    node.reset(YAML::Node(YAML::NodeType::Map));
    node.force_insert(shorthand_, written);
  }
  layers::ConfigReader r(node, name());
  for (const KeySpec& k : keys_) {
    switch (k.type) {
      case KeyType::integer:
        r.integer(k.name, k.fallback.as<int64_t>(), k.range);
        break;
      case KeyType::number:
        r.number(k.name, k.fallback.as<double>(), k.range);
        break;
      case KeyType::boolean:
        r.boolean(k.name, k.fallback.as<bool>());
        break;
      case KeyType::string:
        r.string(k.name, k.fallback.as<std::string>());
        break;
      case KeyType::choice:
        r.choice(k.name, k.choices, k.fallback.as<std::string>());
        break;
      case KeyType::numbers:
        read_numbers(r, k);
        break;
    }
  }
  r.check_no_unknown_keys();
  const YAML::Node filled = r.filled();
  if (after) after(filled, r);
  return filled;
}

Schema& Schema::global() {
  static Schema schema;
  return schema;
}

void Schema::add(const SectionSchema& section) {
  GAU_CHECK(find(section.name()) == nullptr, "config section '", section.name(), "' is declared twice");
  sections_.push_back(&section);
}

const SectionSchema* Schema::find(const std::string& name) const {
  for (const SectionSchema* s : sections_)
    if (s->name() == name) return s;
  return nullptr;
}

std::vector<const SectionSchema*> Schema::sections() const {
  std::vector<const SectionSchema*> out = sections_;
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->name() < b->name(); });
  return out;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> out;
  for (const SectionSchema* s : sections()) out.push_back(s->name());
  return out;
}

namespace {

std::string did_you_mean(const std::string& name, const std::vector<std::string>& names) {
  const std::string hint = layers::nearest(name, names);
  return hint.empty() ? "" : "; did you mean '" + hint + "'?";
}

// The groups of `s`, only the one of `type` when it is given.
std::vector<KeyGroup> groups_of(const SectionSchema& s, const std::string& type) {
  std::vector<KeyGroup> groups = s.key_groups();
  if (type.empty()) return groups;
  std::vector<std::string> types;
  for (const KeyGroup& g : groups) {
    if (g.type == type) return {g};
    if (!g.type.empty()) types.push_back(g.type);
  }
  if (types.empty())
    GAU_FAIL("the config section '", s.name(), "' has fixed keys, not types: gau config --keys ", s.name());
  GAU_FAIL("the config section '", s.name(), "' has no type '", type, "'", did_you_mean(type, types),
           "\ntypes: ", layers::comma_list(types));
}

void print_rows(std::ostream& os, const std::string& indent, const std::vector<KeyRow>& rows) {
  size_t width = 0;
  for (const KeyRow& k : rows) width = std::max(width, k.name.size());
  for (const KeyRow& k : rows) {
    const std::string need = k.fallback == "required" ? ", required"
                             : k.fallback == "unset"  ? ", optional (unset by default)"
                                                      : ", default " + k.fallback;
    os << indent << k.name << std::string(width - k.name.size() + 2, ' ') << k.expected << need << "\n";
    if (!k.help.empty()) os << indent << std::string(width + 2, ' ') << k.help << "\n";
  }
}

// The groups under their type, the type key itself (read by each) listed once above them.
void print_groups(std::ostream& os, std::vector<KeyGroup> groups) {
  if (groups.empty()) return;
  if (groups.front().type.empty()) return print_rows(os, "  ", groups.front().rows);
  const std::string type_key = groups.front().type_key;
  std::vector<KeyRow> type_rows;
  for (KeyGroup& g : groups) {
    auto row = std::find_if(g.rows.begin(), g.rows.end(), [&](const KeyRow& r) { return r.name == type_key; });
    if (row == g.rows.end()) continue;
    if (type_rows.empty()) type_rows.push_back(*row);
    g.rows.erase(row);
  }
  print_rows(os, "  ", type_rows);
  for (const KeyGroup& g : groups) {
    os << "  " << g.type_key << ": " << g.type << "\n";
    print_rows(os, "    ", g.rows);
  }
}

}  // namespace

std::string describe_schema(const std::string& section) {
  const Schema& schema = Schema::global();
  const size_t dot = section.find('.');
  const std::string name = section.substr(0, dot), type = dot == std::string::npos ? "" : section.substr(dot + 1);
  if (!name.empty() && schema.find(name) == nullptr)
    GAU_FAIL("no config section '", name, "'", did_you_mean(name, schema.names()),
             "\nsections: ", layers::comma_list(schema.names()));
  std::ostringstream os;
  for (const SectionSchema* s : schema.sections()) {
    if (!name.empty() && s->name() != name) continue;
    os << s->name() << ":\n  " << s->help() << "\n";
    print_groups(os, groups_of(*s, type));
    os << "\n";
  }
  return os.str();
}

}  // namespace gau::config
