#pragma once
// The `data:` section of a training config, read through layers::ConfigReader: every key has a
// default or is required, numbers are range-checked, and errors name the key path and the YAML
// file:line:column. Keys that do not apply to the chosen source are unknown keys.
//
//   data:
//     source: text          # text | tokens | synthetic
//     path: PATH            # text, tokens (required): a file, or a directory read recursively in
//                           #   sorted order; text: every file, gzip inflated; tokens: every *.bin;
//                           #   names starting with '.' and gau run directories are skipped
//     val_path: ""          # text, tokens: a separate validation set, read like path
//     val_fraction: 0.05    # text, tokens: in [0, 0.5], held out of path for validation (0: no
//                           #   validation set); must be 0 with val_path (its default then)
//     val_split: tokens     # text, tokens: tokens (the last val_fraction of the tokens, cutting a
//                           #   document if need be) | documents (the last val_fraction of them)
//     format: nanogpt       # tokens: nanogpt (raw uint16) | llmc (llm.c: 1 KiB header, uint16 or
//                           #   uint32 tokens)
//     vocab_size: 50257     # tokens: in [1, 2^31 - 1]; every token must be below it (GPT-2's 50257)
//     tokenizer: {type: byte}  # text: see below
//     eos: auto             # end-of-document id: auto | none | an id below the vocabulary. text:
//                           #   appended after each document (auto: the tokenizer's, byte 0 or
//                           #   sentencepiece </s>); tokens: a document ends after each (auto: none);
//                           #   synthetic: not read
//     seq_len: 256          # >= 1 tokens per row; synthetic: the example length (default and minimum)
//     batch_size: 8         # >= 1 rows per rank and step
//     shuffle: true         # reshuffle the training sequences every epoch (validation: never)
//     seed: 1               # >= 0: the shuffle, synthetic examples and sentencepiece sampling
//     packing: true         # true: documents concatenated into full rows; false: each document
//                           #   cut into rows of its own, padded (key_lengths). synthetic: false
//                           #   (whole examples per row; true is an error)
//     mask_across_documents: false  # packing: no target across a document end
//     drop_last: false      # drop each epoch's last, partly filled step instead of filler rows
//     prefetch: 2           # in [0, 64]: batches made ahead on a background thread (0: none)
//     task:                 # synthetic only (synthetic.h)
//       type: associative_recall  # copy | associative_recall | sorting
//       vocab_size: 32      # >= 4 ids: 0 padding, 1 separator, then the symbols
//       length: 8           # copy, sorting: >= 1 symbols per example
//       pairs: 8            # associative_recall: key-value pairs, in [1, vocab_size - 2]
//       queries: 1          # associative_recall: keys asked, in [1, pairs]
//       train_examples: 10000  # >= 1
//       val_examples: 500   # >= 0 (0: no validation set)
//
//   data.tokenizer (text only):
//     type: byte            # byte | sentencepiece
//     model: PATH           # sentencepiece: a .model file to load; or, instead, train:
//     train:                # sentencepiece: train on the training text into RUN_DIR/tokenizer.model;
//                           #   a model already there (a resumed run) is loaded instead
//       vocab_size: 4000    # >= 8 pieces; byte_fallback: 260 + one per character of the text
//       model_type: unigram # unigram | bpe | char | word
//       character_coverage: 1.0  # in [0.9, 1]: share of characters the pieces must cover
//       byte_fallback: true # characters outside the vocabulary become UTF-8 byte pieces
//       max_sentences: 1000000  # >= 0 lines sampled for training (0: all)
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>

#include "trainers/data/loader.h"
#include "trainers/data/sentencepiece_tokenizer.h"
#include "trainers/data/synthetic.h"
#include "trainers/data/token_source.h"

namespace gau::data {

inline constexpr int64_t kEosAuto = -2;
inline constexpr int64_t kEosNone = -1;

struct TokenizerConfig {
  std::string type = "byte";  // byte | sentencepiece
  std::string model;          // sentencepiece: load this file
  bool train = false;         // sentencepiece: train into the run directory
  SentencePieceTrainOptions train_options;
  std::string where;  // "data.tokenizer (x.yaml:4:3)", for errors found when building it
};

struct DataConfig {
  std::string source = "text";  // text | tokens | synthetic
  std::string path;
  std::string val_path;
  double val_fraction = 0.05;
  std::string val_split = "tokens";  // tokens | documents
  TokenFileFormat format = TokenFileFormat::nanogpt;
  int64_t vocab_size = 50257;  // tokens
  TokenizerConfig tokenizer;   // text
  SyntheticTask task;          // synthetic
  int64_t train_examples = 10000;
  int64_t val_examples = 500;
  int64_t eos = kEosAuto;  // kEosAuto, kEosNone or an id
  LoaderOptions loader;    // seq_len, batch_size, shuffle, seed, packing, mask_across_documents, drop_last, prefetch
  std::map<std::string, std::string> where;  // key -> "data.key (file:line:column)", and "" -> the section
  YAML::Node filled;                         // every key read, with the value used
};

// Reads the section at config path `path` ("data") of YAML file `file` ("" when unknown).
DataConfig read_data_config(const YAML::Node& node, const std::string& file = "", const std::string& path = "data");

// A copy of a resolved data section with its file paths (path, val_path, tokenizer.model) made
// absolute against the working directory, where relative paths are read: what a run stores, so
// that eval, generate and resume find its data from any directory.
YAML::Node with_absolute_paths(const YAML::Node& data);

// The data's vocabulary size where the config alone fixes it: 256 for bytes, the vocab_size a
// sentencepiece model is trained to, token files' vocab_size, a synthetic task's; 0 for a
// sentencepiece model file, known only once it is loaded.
int64_t vocabulary_from_config(const DataConfig& cfg);

}  // namespace gau::data
