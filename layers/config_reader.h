#pragma once
// ConfigReader: how a layer's factory reads its keys from a YAML node, with errors that say where.
//
//   ConfigReader r(node, "model.blocks[2].gau");
//   int64_t dim = r.integer("dim", Range::at_least(1));            // required
//   int64_t e   = r.integer("expansion", 2 * dim, Range::at_least(1));  // with a default
//   std::string kind = r.choice("kernel", {"relu2", "softmax", "laplace"}, "relu2");
//   auto proj = r.module("proj");                                   // a nested layer, via the registry
//   r.check_no_unknown_keys();   // after reading: any key never asked for is an error
//   YAML::Node cfg = r.filled(); // every key read, defaults filled in: it rebuilds the same layer
//
// Every error names the key's config path (model.blocks[2].gau.expansion), the YAML position
// (file:line:column, or line:column when no file is known) when the node came from text, and
// what was expected: "expected an integer, got 'abc'", "must be >= 1, got 0". An unknown key
// lists the valid keys and the nearest one by edit distance.
//
// A config merged from several files and command-line overrides (trainers/config/load.h) holds
// nodes from many sources, so one `file` cannot name them all: while a ConfigOriginsScope is
// alive, the readers made on that thread (the registry's nested ones too) ask its ConfigOrigins
// for the position of each node by its config path.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gau::layers {

class Module;

// Where the nodes of one config came from.
class ConfigOrigins {
 public:
  virtual ~ConfigOrigins() = default;
  // The position to show for the node at config path `path` ("optim.lr", "model.blocks[2]")
  // whose mark is `mark`: "configs/base.yaml:4:7", "--set optim.lr=abc"; "" when unknown (the
  // reader then shows its own file with the mark).
  virtual std::string position(const std::string& path, const YAML::Mark& mark) const = 0;
};

// Makes `origins` the origins of every ConfigReader constructed on this thread while the scope
// lives (a reader keeps them after). Thread-local because the registry builds nested readers from
// a node, a path and a file alone; scopes nest.
class ConfigOriginsScope {
 public:
  explicit ConfigOriginsScope(std::shared_ptr<const ConfigOrigins> origins);
  ~ConfigOriginsScope();
  ConfigOriginsScope(const ConfigOriginsScope&) = delete;
  ConfigOriginsScope& operator=(const ConfigOriginsScope&) = delete;

 private:
  std::shared_ptr<const ConfigOrigins> previous_;
};

// An allowed interval for a number; open or closed at each end.
class Range {
 public:
  Range() = default;
  static Range at_least(double lo) { return Range(lo, kInf, false, false); }
  static Range greater_than(double lo) { return Range(lo, kInf, true, false); }
  static Range between(double lo, double hi) { return Range(lo, hi, false, false); }  // closed
  bool contains(double v) const;
  std::string str() const;  // ">= 1", "in [0, 1]"

 private:
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  Range(double lo, double hi, bool lo_open, bool hi_open) : lo_(lo), hi_(hi), lo_open_(lo_open), hi_open_(hi_open) {}
  double lo_ = -kInf, hi_ = kInf;
  bool lo_open_ = false, hi_open_ = false;
};

class ConfigReader {
 public:
  // `node` is the layer's map; `path` names it in messages; `file` is the YAML file it came from
  // ("" when unknown).
  ConfigReader(YAML::Node node, std::string path, std::string file = "");

  int64_t integer(const std::string& key, Range range = {});
  int64_t integer(const std::string& key, int64_t fallback, Range range = {});
  double number(const std::string& key, Range range = {});
  double number(const std::string& key, double fallback, Range range = {});
  bool boolean(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  std::string string(const std::string& key);
  std::string string(const std::string& key, const std::string& fallback);
  // One of `choices` (a list the error message shows).
  std::string choice(const std::string& key, const std::vector<std::string>& choices, const std::string& fallback);
  // A list of integers ([64, 64, 32]), each in range.
  std::vector<int64_t> integers(const std::string& key, Range range = {});
  // A map of names to integers ({u: 128, v: 128, z: 32}), in document order, each in range.
  std::vector<std::pair<std::string, int64_t>> named_integers(const std::string& key, Range range = {});

  // A nested layer (a map with its own `type:`), built through the registry at path "<path>.key".
  std::shared_ptr<Module> module(const std::string& key);
  // A list of nested layers, at "<path>.key[i]".
  std::vector<std::shared_ptr<Module>> modules(const std::string& key);

  // The value of `key` as written (an undefined node when absent), marked read, for a layer that
  // builds nested layers itself (a model stacking copies of one block config with keys added);
  // it records what it used with record().
  YAML::Node raw(const std::string& key) { return lookup(key); }
  // Sets what filled() holds for `key`.
  void record(const std::string& key, const YAML::Node& value);

  // Throws for the first key of the node that nothing read, with the valid keys and a hint.
  void check_no_unknown_keys() const;
  // The keys read so far with the values used (defaults included; a nested layer as its own
  // config()), in reading order.
  YAML::Node filled() const { return filled_; }

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  // "model.blocks[2].gau.dim (configs/x.yaml:5:7)": a key's path and, when known, its position.
  std::string where(const std::string& key) const;
  // Throws gau::Error "<where(key)>: <message>".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  // The value node of `key` (marking it read), or an invalid node when absent.
  YAML::Node lookup(const std::string& key);
  // The position of the node at config path `path` with `mark`.
  std::string position(const std::string& path, const YAML::Mark& mark) const;

  YAML::Node node_;
  std::string path_;
  std::string file_;
  std::shared_ptr<const ConfigOrigins> origins_;  // null: every node is from file_
  std::vector<std::string> read_;
  YAML::Node filled_;
};

// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate nearest to `key`, or "" when none is close enough to be a plausible typo.
std::string nearest(const std::string& key, const std::vector<std::string>& candidates);

}  // namespace gau::layers
