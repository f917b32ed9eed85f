#pragma once
// Loading a run's config: YAML files with `base:` inheritance, then `--set` overrides.
//
//   LoadedConfig c = load_config("configs/x.yaml", {"optim.lr=3e-4", "model.blocks.type=flash"});
//   c.root["optim"]["lr"]                  // the merged value, still unchecked
//   YAML::Node r = resolve_config(c);      // checked against the schema (trainers/config/resolve.h)
//
// Inheritance: a file's top-level `base:` names one file or a list of files, each relative to
// the file that names it. The bases are merged in order, then the file over them: maps merge key
// by key, all the way down, except that a map naming another `type:` than the base's replaces it
// whole (schedule: {type: constant} over a cosine schedule drops the cosine's keys); a scalar
// or a list replaces what was there; a null (`key: null`, `key: ~`) deletes an inherited key, in
// a file or an override (--set optim.betas=null). A key written twice in one map is an error. A base may have bases of
// its own; a file that includes itself, directly or not, is an error naming the cycle
// (configs/a.yaml -> configs/b.yaml -> configs/a.yaml) at the `base:` entry that closes it.
//
// Overrides: "key.path=value", with the value parsed as YAML (3e-4, flash, [1, 2], {type: gau}),
// applied in order after the files; a path may index a list (model.blocks[1].chunk=64). Missing
// maps on the way are created; a path through a scalar or a list, a missing `=`, an empty
// path or key, or an empty value are errors. Types and ranges are the schema's business, so a
// wrong value surfaces there, named after its override.
//
// Every node remembers its source: the file it was written in (its YAML mark gives line and
// column) or the override that set it. resolve_config and build_model install `origins` for
// their ConfigReaders, so an error names the right file:line:column, or "--set optim.lr=abc".
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/config_reader.h"

namespace gau::config {

// Where each node of a merged config came from, by config path.
class Origins : public layers::ConfigOrigins {
 public:
  // "file:line:column", "file" for a node without a mark, "--set key=value" for an override; ""
  // when the path is unknown. A path the config does not write falls back to the path without
  // list indices (model.blocks[2], built from model.blocks: {type: gau}), then to its nearest
  // written parent (a key a reader added to a map).
  //
  // A reader may hold a copy of the written node: YAML::Clone (a uniform block stack's blocks)
  // marks every copied node 1:1. A mark that is neither the written node's nor its key's but
  // 1:1 is such a copy's, and the written node's mark is shown instead.
  std::string position(const std::string& path, const YAML::Mark& mark) const override;

  struct Source {
    std::string text;  // the file, or the whole override
    bool is_override = false;
    YAML::Mark value_mark = YAML::Mark::null_mark(), key_mark = YAML::Mark::null_mark();
  };
  void set(const std::string& path, Source source);

 private:
  const Source* find(const std::string& path) const;
  std::map<std::string, Source> by_path_;
};

struct LoadedConfig {
  YAML::Node root;                     // a map: the files merged, `base:` keys removed, overrides applied
  std::string file;                    // the file loaded, as given
  std::vector<std::string> files;      // every file read: the bases first, in merge order, then `file`
  std::vector<std::string> overrides;  // as given
  std::shared_ptr<const Origins> origins;
};

// The section `name` of a config (an undefined node when absent: yaml-cpp's lookup of a missing
// key gives an invalid node, which throws on use).
YAML::Node section_of(const YAML::Node& root, const std::string& name);

// Reads `path` and its bases, applies `overrides` ("key.path=value"). Throws gau::Error naming
// the file and position for a missing file, a YAML syntax error, a bad `base:` or a cycle, and
// the override for a bad one.
LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace gau::config
