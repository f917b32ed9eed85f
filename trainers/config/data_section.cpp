// The data: section: trainers/data/data_config.h reads and checks it, every key of the chosen
// source, at the config's positions (resolve_config installs its origins for the readers).
#include "core/error.h"
#include "trainers/config/schema.h"
#include "trainers/data/data_config.h"

namespace gau::config {

namespace {

YAML::Node resolve_data(const YAML::Node& written, const std::string& path) {
  GAU_CHECK(written.IsDefined(), path, ": the config needs a data section, such as {source: text, path: ",
            "corpus.txt.gz} or {source: synthetic, task: {type: copy}} (its keys: trainers/data/data_config.h); a model "
            "preset such as configs/models/gau_tiny.yaml is meant as a run config's base: "
            "(configs/long_context_8k.yaml is one)");
  return data::read_data_config(written, "", path).filled;
}

const SectionSchema& data_config_section() {
  static const ReaderSection section(
      "data",
      "the training data and its batches: the keys of a source (text, tokens or synthetic), documented in "
      "trainers/data/data_config.h",
      resolve_data, [] {
        const std::vector<ReaderSection::Example> examples = {
            {"source", "text", "{source: text, path: corpus.txt}"},
            {"source", "text", "{source: text, path: corpus.txt, tokenizer: {type: sentencepiece, model: spm.model}}"},
            {"source", "text", "{source: text, path: corpus.txt, tokenizer: {type: sentencepiece, train: {}}}"},
            {"source", "tokens", "{source: tokens, path: train.bin}"},
            {"source", "synthetic", "{source: synthetic, task: {type: associative_recall}}"},
            {"source", "synthetic", "{source: synthetic, task: {type: copy}}"},
        };
        return examples;
      });
  return section;
}

}  // namespace

GAU_CONFIG_SECTION(data_config_section());

}  // namespace gau::config
