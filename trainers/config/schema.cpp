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

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
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
      return "one of: " + join(choices);
    case KeyType::numbers:
      return "list of numbers" + range_text;
  }
  return "";
}

std::string KeySpec::default_text() const {
  if (type == KeyType::string && fallback.Scalar().empty()) return "\"\"";
  return to_yaml(tidy_numbers(fallback), true);
}

const std::vector<KeySpec>& SectionSchema::keys() const {
  static const std::vector<KeySpec> none;
  return none;
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

std::string describe_schema(const std::string& section) {
  const Schema& schema = Schema::global();
  if (!section.empty() && schema.find(section) == nullptr) {
    const std::string hint = layers::nearest(section, schema.names());
    GAU_FAIL("no config section '", section, "'", hint.empty() ? "" : "; did you mean '" + hint + "'?",
             "\nsections: ", join(schema.names()));
  }
  std::ostringstream os;
  for (const SectionSchema* s : schema.sections()) {
    if (!section.empty() && s->name() != section) continue;
    os << s->name() << ":\n  " << s->help() << "\n";
    size_t width = 0;
    for (const KeySpec& k : s->keys()) width = std::max(width, k.name.size());
    for (const KeySpec& k : s->keys()) {
      os << "  " << k.name << std::string(width - k.name.size() + 2, ' ') << k.type_text() << ", default "
         << k.default_text() << "\n  " << std::string(width + 2, ' ') << k.help << "\n";
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace gau::config
