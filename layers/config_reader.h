#pragma once
// ConfigReader: how a layer's factory reads its keys from a YAML node, with errors that say where.
//
//   ConfigReader r(node, "model.blocks[2].gau");
//   int64_t dim = r.integer("dim", Range::at_least(1));            // required
//   int64_t e   = r.integer("expansion", 2 * dim, Range::at_least(1));  // with a default
//   std::string kind = r.choice("kernel", {"relu2", "softmax", "laplace"}, "relu2");
//   auto proj = r.module("proj");                                   // a nested layer, via the registry
//   r.explain({{"dim", "width of the block's input and output"}});  // help for gau config --keys
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
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
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
  static Range less_than(double hi) { return Range(-kInf, hi, false, true); }
  bool contains(double v) const;
  bool bounded() const { return lo_ > -kInf || hi_ < kInf; }
  std::string str() const;  // ">= 1", "in [0, 1]"

 private:
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  Range(double lo, double hi, bool lo_open, bool hi_open) : lo_(lo), hi_(hi), lo_open_(lo_open), hi_open_(hi_open) {}
  double lo_ = -kInf, hi_ = kInf;
  bool lo_open_ = false, hi_open_ = false;
};

// What the readers were asked for, so that `gau config --keys` can list the keys of a section
// whose keys depend on its type: while a ReadKeyLog lives, every ConfigReader on this thread
// notes each key it reads (the registry's nested readers too), with the value it expects.
struct ReadKey {
  enum class Need { fallback, required, optional };  // optional: no default, unset when absent
  std::string path;      // the reader's: "data.tokenizer"
  std::string key;       // "type"
  std::string expected;  // "integer >= 1", "one of: byte, sentencepiece"; "" for a raw read
  Need need = Need::fallback;
  std::string fallback;  // the default as the reader gave it ("1e-08", "\"\""); "" when not given
};

class ReadKeyLog {
 public:
  ReadKeyLog();
  ~ReadKeyLog();
  ReadKeyLog(const ReadKeyLog&) = delete;
  ReadKeyLog& operator=(const ReadKeyLog&) = delete;
  // In first reading order; a key noted twice keeps its first typed note.
  const std::vector<ReadKey>& keys() const { return keys_; }
  // The log of this thread, or null.
  static ReadKeyLog* current();
  void note(ReadKey key);
  // What the key `key` of the reader at `path` means, in a line; help() is "" when never explained.
  void explain(const std::string& path, const std::string& key, std::string help);
  std::string help(const std::string& path, const std::string& key) const;

 private:
  struct Help {
    std::string path, key, text;
  };
  std::vector<ReadKey> keys_;
  std::vector<Help> help_;
  ReadKeyLog* previous_;
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
  // A number with no default: nullopt when the key is absent (or null).
  std::optional<double> number_if_given(const std::string& key, Range range = {});
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
  // it records what it used with record(). `expected` describes the value for `gau config --keys`
  // ("a list of name patterns"), when the reader's own checks of it do not go through this class.
  YAML::Node raw(const std::string& key) { return lookup(key); }
  YAML::Node raw(const std::string& key, const std::string& expected,
                 ReadKey::Need need = ReadKey::Need::fallback);
  // Describes `key` for `gau config --keys` where its range or default follows from other keys
  // (`e`: "integer >= 1", "2 dim"); call it before reading the key.
  void document(const std::string& key, std::string expected, std::string fallback) const {
    note(key, std::move(expected), ReadKey::Need::fallback, std::move(fallback));
  }
  // One line of help per key, for `gau config --keys` (a no-op unless a ReadKeyLog is alive); next
  // to the reads, so that a key's meaning is written where it is used. Order does not matter.
  void explain(std::initializer_list<std::pair<const char*, const char*>> help) const;
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
  // Notes `key` in the thread's ReadKeyLog, if there is one.
  void note(const std::string& key, std::string expected, ReadKey::Need need = ReadKey::Need::fallback,
            std::string fallback = "") const;
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
// "a, b, c": the names a message lists (valid keys, choices, types).
std::string comma_list(const std::vector<std::string>& names);

}  // namespace gau::layers
