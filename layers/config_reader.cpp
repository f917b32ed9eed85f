#include "layers/config_reader.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "layers/registry.h"

namespace gau::layers {

namespace {

// How a node looks, for "expected ..., got <this>".
std::string shown(const YAML::Node& v) {
  if (v.IsNull()) return "nothing (null)";
  if (v.IsMap()) return "a map";
  if (v.IsSequence()) return "a list";
  return "'" + v.Scalar() + "'";
}

// Whole numbers in full (2147483647, not 2.14748e+09); others in 6 significant digits.
std::string format_number(double v) {
  std::ostringstream os;
  if (std::abs(v) < 1e15 && v == std::floor(v))
    os << static_cast<int64_t>(v);
  else
    os << v;
  return os.str();
}

thread_local std::shared_ptr<const ConfigOrigins> current_origins;
thread_local ReadKeyLog* current_log = nullptr;

// "integer >= 1", or "integer" when any value is allowed.
std::string ranged(std::string what, const Range& range) {
  if (range.bounded()) what.append(" ").append(range.str());
  return what;
}

}  // namespace

ReadKeyLog::ReadKeyLog() : previous_(current_log) { current_log = this; }

ReadKeyLog::~ReadKeyLog() { current_log = previous_; }

ReadKeyLog* ReadKeyLog::current() { return current_log; }

void ReadKeyLog::note(ReadKey key) {
  for (ReadKey& k : keys_) {
    if (k.path != key.path || k.key != key.key) continue;
    if (k.expected.empty()) k = std::move(key);
    return;
  }
  keys_.push_back(std::move(key));
}

void ReadKeyLog::explain(const std::string& path, const std::string& key, std::string help) {
  for (Help& h : help_)
    if (h.path == path && h.key == key) return void(h.text = std::move(help));
  help_.push_back({path, key, std::move(help)});
}

std::string ReadKeyLog::help(const std::string& path, const std::string& key) const {
  for (const Help& h : help_)
    if (h.path == path && h.key == key) return h.text;
  return "";
}

ConfigOriginsScope::ConfigOriginsScope(std::shared_ptr<const ConfigOrigins> origins)
    : previous_(std::move(current_origins)) {
  current_origins = std::move(origins);
}

ConfigOriginsScope::~ConfigOriginsScope() { current_origins = std::move(previous_); }

bool Range::contains(double v) const {
  const bool above = lo_open_ ? v > lo_ : v >= lo_;
  const bool below = hi_open_ ? v < hi_ : v <= hi_;
  return above && below;
}

std::string Range::str() const {
  if (std::isinf(hi_)) return std::string(lo_open_ ? "> " : ">= ") + format_number(lo_);
  if (std::isinf(lo_)) return std::string(hi_open_ ? "< " : "<= ") + format_number(hi_);
  return std::string("in ") + (lo_open_ ? "(" : "[") + format_number(lo_) + ", " + format_number(hi_) +
         (hi_open_ ? ")" : "]");
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string nearest(const std::string& key, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, key.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(key, c);
    // Replacing every character of a short key is no typo ('0' is not near 'e').
    if (d < best_d && d < key.size()) best = c, best_d = d;
  }
  return best;
}

std::string comma_list(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
  return list;
}

ConfigReader::ConfigReader(YAML::Node node, std::string path, std::string file)
    : node_(std::move(node)), path_(std::move(path)), file_(std::move(file)), origins_(current_origins) {
  if (!node_.IsDefined() || node_.IsNull()) return;
  if (!node_.IsMap()) {
    const std::string pos = position(path_, node_.Mark());
    GAU_FAIL(path_, pos.empty() ? "" : " (" + pos + ")", ": expected a map of keys, got ", shown(node_));
  }
}

std::string ConfigReader::position(const std::string& path, const YAML::Mark& mark) const {
  if (origins_) {
    std::string pos = origins_->position(path, mark);
    if (!pos.empty()) return pos;
  }
  if (mark.is_null()) return file_;
  const std::string lc = std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return file_.empty() ? "line " + lc : file_ + ":" + lc;
}

std::string ConfigReader::where(const std::string& key) const {
  const std::string full = key.empty() ? path_ : path_ + "." + key;
  // The key's own node when it is there, else the map that lacks it.
  YAML::Mark mark = node_.Mark();
  std::string node_path = path_;
  if (!key.empty() && node_.IsMap()) {
    const YAML::Node& map = node_;
    const YAML::Node v = map[key];
    if (v) mark = v.Mark(), node_path = full;
  }
  const std::string pos = position(node_path, mark);
  return pos.empty() ? full : full + " (" + pos + ")";
}

void ConfigReader::fail(const std::string& key, const std::string& message) const {
  GAU_FAIL(where(key), ": ", message);
}

YAML::Node ConfigReader::lookup(const std::string& key) {
  note(key, "");
  if (std::find(read_.begin(), read_.end(), key) == read_.end()) read_.push_back(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& map = node_;
  const YAML::Node v = map[key];
  return v ? v : YAML::Node(YAML::NodeType::Undefined);
}

void ConfigReader::record(const std::string& key, const YAML::Node& value) { filled_[key] = value; }

void ConfigReader::note(const std::string& key, std::string expected, ReadKey::Need need, std::string fallback) const {
  if (current_log) current_log->note({path_, key, std::move(expected), need, std::move(fallback)});
}

void ConfigReader::explain(std::initializer_list<std::pair<const char*, const char*>> help) const {
  if (current_log == nullptr) return;
  for (const auto& [key, text] : help) current_log->explain(path_, key, text);
}

YAML::Node ConfigReader::raw(const std::string& key, const std::string& expected, ReadKey::Need need) {
  note(key, expected, need);
  return lookup(key);
}

namespace {

template <typename T>
bool convert_scalar(const YAML::Node& v, T& out) {
  if (!v.IsScalar()) return false;
  try {
    out = v.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

// An integer may also be written as a whole number in exponent form, `steps: 1e6`, as users
// write large counts (and as configs saved by gau 0.1.0 hold counts of a million or more).
template <>
bool convert_scalar(const YAML::Node& v, int64_t& out) {
  if (!v.IsScalar()) return false;
  try {
    out = v.as<int64_t>();
    return true;
  } catch (const YAML::Exception&) {
  }
  double x = 0;
  if (!convert_scalar(v, x) || !std::isfinite(x) || x != std::trunc(x) || std::fabs(x) > 0x1p53) return false;
  out = static_cast<int64_t>(x);
  return true;
}

// "expected an integer, got '1.5'"; a whole number past what an integer key holds says so.
std::string not_an_integer(const YAML::Node& v) {
  double x = 0;
  if (convert_scalar(v, x) && std::isfinite(x) && x == std::trunc(x))
    return "expected an integer, got " + shown(v) + ", too large for an integer";
  return "expected an integer, got " + shown(v);
}

}  // namespace

int64_t ConfigReader::integer(const std::string& key, Range range) {
  note(key, ranged("integer", range), ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (an integer " + range.str() + ")");
  return integer(key, 0, range);
}

int64_t ConfigReader::integer(const std::string& key, int64_t fallback, Range range) {
  note(key, ranged("integer", range), ReadKey::Need::fallback, std::to_string(fallback));
  const YAML::Node v = lookup(key);
  int64_t value = fallback;
  if (v.IsDefined() && !convert_scalar(v, value)) fail(key, not_an_integer(v));
  if (!range.contains(static_cast<double>(value)))
    fail(key, "must be " + range.str() + ", got " + std::to_string(value));
  record(key, YAML::Node(value));
  return value;
}

double ConfigReader::number(const std::string& key, Range range) {
  note(key, ranged("number", range), ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (a number " + range.str() + ")");
  return number(key, 0.0, range);
}

double ConfigReader::number(const std::string& key, double fallback, Range range) {
  note(key, ranged("number", range), ReadKey::Need::fallback, format_number(fallback));
  const YAML::Node v = lookup(key);
  double value = fallback;
  if (v.IsDefined() && !convert_scalar(v, value)) fail(key, "expected a number, got " + shown(v));
  if (!std::isfinite(value) || !range.contains(value))
    fail(key, "must be a finite number " + range.str() + ", got " + format_number(value));
  record(key, YAML::Node(value));
  return value;
}

std::optional<double> ConfigReader::number_if_given(const std::string& key, Range range) {
  note(key, ranged("number", range), ReadKey::Need::optional);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  return number(key, range);
}

bool ConfigReader::boolean(const std::string& key) {
  note(key, "true or false", ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (true or false)");
  return boolean(key, false);
}

bool ConfigReader::boolean(const std::string& key, bool fallback) {
  note(key, "true or false", ReadKey::Need::fallback, fallback ? "true" : "false");
  const YAML::Node v = lookup(key);
  bool value = fallback;
  if (v.IsDefined() && !convert_scalar(v, value)) fail(key, "expected true or false, got " + shown(v));
  record(key, YAML::Node(value));
  return value;
}

std::string ConfigReader::string(const std::string& key) {
  note(key, "string", ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (a string)");
  return string(key, "");
}

std::string ConfigReader::string(const std::string& key, const std::string& fallback) {
  note(key, "string", ReadKey::Need::fallback, fallback.empty() ? "\"\"" : fallback);
  const YAML::Node v = lookup(key);
  std::string value = fallback;
  if (v.IsDefined()) {
    if (!v.IsScalar()) fail(key, "expected a string, got " + shown(v));
    value = v.Scalar();
  }
  record(key, YAML::Node(value));
  return value;
}

std::string ConfigReader::choice(const std::string& key, const std::vector<std::string>& choices,
                                 const std::string& fallback) {
  const std::string list = comma_list(choices);
  note(key, "one of: " + list, ReadKey::Need::fallback, fallback);
  const std::string value = string(key, fallback);
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return value;
  const std::string hint = nearest(value, choices);
  fail(key, "'" + value + "' is not one of: " + list + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
}

std::vector<int64_t> ConfigReader::integers(const std::string& key, Range range) {
  note(key, ranged("list of integers", range), ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (a list of integers " + range.str() + ")");
  if (!v.IsSequence()) fail(key, "expected a list of integers, got " + shown(v));
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t x = 0;
    if (!convert_scalar(v[i], x))
      fail(key, "element " + std::to_string(i) + ": " + not_an_integer(v[i]));
    if (!range.contains(static_cast<double>(x)))
      fail(key, "element " + std::to_string(i) + " must be " + range.str() + ", got " + std::to_string(x));
    out.push_back(x);
  }
  YAML::Node filled(YAML::NodeType::Sequence);
  for (int64_t x : out) filled.push_back(x);
  record(key, filled);
  return out;
}

std::vector<std::pair<std::string, int64_t>> ConfigReader::named_integers(const std::string& key, Range range) {
  note(key, ranged("map of names to integers", range), ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (a map of names to integers " + range.str() + ")");
  if (!v.IsMap() || v.size() == 0) fail(key, "expected a non-empty map of names to integers, got " + shown(v));
  std::vector<std::pair<std::string, int64_t>> out;
  YAML::Node filled(YAML::NodeType::Map);
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string name = it->first.Scalar();
    int64_t x = 0;
    if (!convert_scalar(it->second, x)) fail(key, "'" + name + "': " + not_an_integer(it->second));
    if (!range.contains(static_cast<double>(x)))
      fail(key, "'" + name + "' must be " + range.str() + ", got " + std::to_string(x));
    out.emplace_back(name, x);
    filled[name] = x;
  }
  record(key, filled);
  return out;
}

std::shared_ptr<Module> ConfigReader::module(const std::string& key) {
  note(key, "a layer config (a map with a type)", ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (a layer: a map with a type)");
  if (!v.IsMap()) fail(key, "expected a layer (a map with a type), got " + shown(v));
  std::shared_ptr<Module> m = build(v, path_ + "." + key, file_);
  record(key, YAML::Clone(m->config()));
  return m;
}

std::vector<std::shared_ptr<Module>> ConfigReader::modules(const std::string& key) {
  note(key, "a list of layer configs", ReadKey::Need::required);
  const YAML::Node v = lookup(key);
  if (!v.IsDefined()) fail(key, "missing required key '" + key + "' (a list of layers)");
  if (!v.IsSequence()) fail(key, "expected a list of layers, got " + shown(v));
  std::vector<std::shared_ptr<Module>> out;
  YAML::Node filled(YAML::NodeType::Sequence);
  for (size_t i = 0; i < v.size(); ++i) {
    out.push_back(build(v[i], path_ + "." + key + "[" + std::to_string(i) + "]", file_));
    filled.push_back(YAML::Clone(out.back()->config()));
  }
  record(key, filled);
  return out;
}

void ConfigReader::check_no_unknown_keys() const {
  if (!node_.IsMap()) return;
  std::ostringstream os;
  int unknown = 0;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(read_.begin(), read_.end(), key) != read_.end()) continue;
    const std::string pos = position(path_ + "." + key, it->first.Mark());
    os << (unknown++ ? "\n" : "") << path_ << "." << key << (pos.empty() ? "" : " (" + pos + ")") << ": unknown key '"
       << key << "'";
    const std::string hint = nearest(key, read_);
    if (!hint.empty()) os << "; did you mean '" << hint << "'?";
  }
  if (unknown == 0) return;
  os << "\nvalid keys:" << (read_.empty() ? "" : " " + comma_list(read_));
  // A run's config may inherit the key from a base file, or keep it from another type that
  // --set switched away from: say how to drop it (trainers/config/load.h).
  if (current_origins)
    os << "\n(a key inherited from a base config, or left from another type, is dropped with `key: null` in the "
          "config or --set "
       << path_ << ".KEY=null)";
  GAU_FAIL(os.str());
}

}  // namespace gau::layers
