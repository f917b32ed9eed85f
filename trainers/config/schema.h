#pragma once
// The config schema: each top-level section of a run's config (model, data, optim, schedule,
// train, precision, distributed, logging) is declared once, beside the code that uses it, and
// registered by name. The schema checks a config (unknown sections and keys with the nearest
// valid one, types, ranges), fills in the defaults for `gau config --dump`, and documents every
// key for `gau config --keys`.
//
// A section of fixed keys declares them on the struct it fills; each key's default is that
// member's initial value, so it is written once:
//
//   struct TrainOptions { int64_t steps = 1000; std::string device = "cpu"; };
//
//   const Section<TrainOptions>& train_section() {
//     static const Section<TrainOptions> section = [] {
//       Section<TrainOptions> s("train", "the training loop");
//       s.integer("steps", &TrainOptions::steps, layers::Range::at_least(1), "optimizer steps to run");
//       s.string("device", &TrainOptions::device, "cpu, cuda or cuda:N");
//       s.check([](const TrainOptions& o, layers::ConfigReader& r) { ... r.fail("device", "..."); });
//       return s;
//     }();
//     return section;
//   }
//   GAU_CONFIG_SECTION(train_section());
//
//   TrainOptions o = train_section().read(config);   // config: a LoadedConfig (load.h)
//
// A section whose keys depend on a `type:` (model:, built by the layer registry; data:, optim:,
// schedule:) is a ReaderSection: a function that checks the node through ConfigReaders and
// returns it filled in; its owner's header documents the keys. `gau config --keys` lists them per
// type by reading one example config of each type and listing what its readers asked for
// (layers::ReadKeyLog), with the defaults they filled in.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/config_reader.h"
#include "trainers/config/load.h"

namespace gau::config {

enum class KeyType { integer, number, boolean, string, choice, numbers };

// One key of a section.
struct KeySpec {
  std::string name;
  KeyType type = KeyType::string;
  YAML::Node fallback;               // the default
  layers::Range range;               // integer, number, numbers
  std::vector<std::string> choices;  // choice
  std::string help;

  std::string type_text() const;     // "integer >= 1", "one of: auto, bar, lines", "list of numbers"
  std::string default_text() const;  // "1000", "cpu", "[0.9, 0.999]"
};

// One key as `gau config --keys` lists it.
struct KeyRow {
  std::string name;      // "lr", "tokenizer.train.vocab_size"
  std::string expected;  // "number >= 0"
  std::string fallback;  // "0.001", "required", "unset"
  std::string help;      // "" where the section's header documents it
};

// The keys of one type of a section (type_key: type, as in "type: adamw"); a section of fixed
// keys has one group with no type.
struct KeyGroup {
  std::string type_key, type;
  std::vector<KeyRow> rows;
};

class SectionSchema {
 public:
  virtual ~SectionSchema() = default;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  virtual std::vector<KeyGroup> key_groups() const = 0;
  // `written` is the section as the config holds it (undefined when absent), at config path
  // name(). Returns it checked, with every default filled in; throws gau::Error naming the key,
  // its position and what was expected.
  virtual YAML::Node resolve(const YAML::Node& written) const = 0;

 protected:
  SectionSchema(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  std::string name_, help_;
};

// A section of declared keys. Section<Options> adds the typed declarations and reading.
class KeySection : public SectionSchema {
 public:
  // The declared keys, in declaration order.
  const std::vector<KeySpec>& keys() const { return keys_; }
  std::vector<KeyGroup> key_groups() const override;
  YAML::Node resolve(const YAML::Node& written) const override { return read_keys(written, nullptr); }
  // A scalar written for the whole section stands for {key: scalar}: `precision: bf16`.
  void shorthand(const std::string& key) { shorthand_ = key; }

 protected:
  using SectionSchema::SectionSchema;
  void add(KeySpec spec);
  // Reads every key through a ConfigReader, rejects unknown keys, then runs `after` (checks
  // across keys, which fail through the reader), and returns the filled-in keys.
  YAML::Node read_keys(const YAML::Node& written,
                       const std::function<void(const YAML::Node& filled, layers::ConfigReader& r)>& after) const;

 private:
  std::vector<KeySpec> keys_;
  std::string shorthand_;
};

template <typename Options>
class Section : public KeySection {
 public:
  Section(std::string name, std::string help) : KeySection(std::move(name), std::move(help)) {}

  void integer(const std::string& name, int64_t Options::*member, layers::Range range, std::string help) {
    declare(name, KeyType::integer, member, range, {}, std::move(help));
  }
  void number(const std::string& name, double Options::*member, layers::Range range, std::string help) {
    declare(name, KeyType::number, member, range, {}, std::move(help));
  }
  void boolean(const std::string& name, bool Options::*member, std::string help) {
    declare(name, KeyType::boolean, member, {}, {}, std::move(help));
  }
  void string(const std::string& name, std::string Options::*member, std::string help) {
    declare(name, KeyType::string, member, {}, {}, std::move(help));
  }
  void choice(const std::string& name, std::string Options::*member, std::vector<std::string> choices,
              std::string help) {
    declare(name, KeyType::choice, member, {}, std::move(choices), std::move(help));
  }
  void numbers(const std::string& name, std::vector<double> Options::*member, layers::Range range, std::string help) {
    declare(name, KeyType::numbers, member, range, {}, std::move(help));
  }
  // A check over the whole section, after every key was read: it fails through r.fail(key, ...).
  void check(std::function<void(const Options&, layers::ConfigReader& r)> fn) { checks_.push_back(std::move(fn)); }

  YAML::Node resolve(const YAML::Node& written) const override {
    return read_keys(written, [this](const YAML::Node& filled, layers::ConfigReader& r) {
      const Options options = from_filled(filled);
      for (const auto& fn : checks_) fn(options, r);
    });
  }
  // The section of `config`, checked, with its positions in errors.
  Options read(const LoadedConfig& config) const {
    layers::ConfigOriginsScope scope(config.origins);
    return from_filled(resolve(section_of(config.root, name())));
  }
  // The section from a node (a resolved config's, as stored with a run).
  Options read(const YAML::Node& section) const { return from_filled(resolve(section)); }

 private:
  template <typename T>
  void declare(const std::string& name, KeyType type, T Options::*member, layers::Range range,
               std::vector<std::string> choices, std::string help) {
    add({name, type, YAML::Node(Options{}.*member), range, std::move(choices), std::move(help)});
    setters_.push_back([name, member](Options& o, const YAML::Node& filled) { o.*member = filled[name].as<T>(); });
  }
  Options from_filled(const YAML::Node& filled) const {
    Options options;
    for (const auto& set : setters_) set(options, filled);
    return options;
  }

  std::vector<std::function<void(Options&, const YAML::Node&)>> setters_;
  std::vector<std::function<void(const Options&, layers::ConfigReader&)>> checks_;
};

// A section read by a function, for keys that depend on a type.
class ReaderSection : public SectionSchema {
 public:
  // `read(written, path)` returns the section checked and filled in.
  using Reader = std::function<YAML::Node(const YAML::Node& written, const std::string& path)>;
  // A config of the section that reads every key of its type; examples of one type are listed
  // together, each key once.
  struct Example {
    std::string type_key, type;  // "type", "adamw"
    std::string yaml;            // "{type: adamw}"
  };
  // Made when asked for, since the layer registry (and a plugin) may add types until then; none
  // for a section of no keys (plugins: a list).
  using Examples = std::function<std::vector<Example>()>;
  // What the keys of a nested reader are: part of the section ("data.tokenizer.type"), or of a
  // layer of their own, listed under its own type (a model's blocks).
  enum class Nested { listed, own_types };

  ReaderSection(std::string name, std::string help, Reader read, Examples examples, Nested nested = Nested::listed)
      : SectionSchema(std::move(name), std::move(help)),
        read_(std::move(read)),
        examples_(std::move(examples)),
        nested_(nested) {}
  YAML::Node resolve(const YAML::Node& written) const override { return read_(written, name()); }
  std::vector<KeyGroup> key_groups() const override;

 private:
  Reader read_;
  Examples examples_;
  Nested nested_;
};

// Every declared section, by name.
class Schema {
 public:
  static Schema& global();
  // Adds `section` (which must outlive the schema: a function-local static); a second section
  // of the same name is an error.
  void add(const SectionSchema& section);
  const SectionSchema* find(const std::string& name) const;
  // Sorted by name.
  std::vector<const SectionSchema*> sections() const;
  std::vector<std::string> names() const;

 private:
  std::vector<const SectionSchema*> sections_;
};

// Every section's keys: type, default and help, as `gau config --keys` prints them; only those of
// `section` when it is given, and of one type of it for "section.type" ("optim.adamw"). An
// unknown section or type is an error with the nearest name.
std::string describe_schema(const std::string& section = "");

struct SectionRegistration {
  explicit SectionRegistration(const SectionSchema& section) { Schema::global().add(section); }
};

}  // namespace gau::config

#define GAU_CONFIG_SECTION_CAT2(a, b) a##b
#define GAU_CONFIG_SECTION_CAT(a, b) GAU_CONFIG_SECTION_CAT2(a, b)
#define GAU_CONFIG_SECTION(section)                                                                        \
  static const ::gau::config::SectionRegistration GAU_CONFIG_SECTION_CAT(gau_config_section_registration_, \
                                                                         __COUNTER__)(section)
