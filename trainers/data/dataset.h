#pragma once
// Building the data a `data:` config describes: the tokenizer, the training and validation
// corpora, and the loader options for each split.
//
//   DataConfig cfg = read_data_config(yaml["data"], "configs/default.yaml");
//   Dataset ds = build_dataset(cfg, run_dir);            // reads, tokenizes, splits, checks
//   Loader train(ds.train, loader_options(cfg, ds, Split::train, rank, world_size));
//
// Text is read whole and tokenized once, at start (documents in memory as int32 ids); token
// files stay memory-mapped. Either way the steps then read only memory.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trainers/data/corpus.h"
#include "trainers/data/data_config.h"
#include "trainers/data/loader.h"
#include "trainers/data/text_files.h"
#include "trainers/data/tokenizer.h"

namespace gau::data {

struct Dataset {
  std::shared_ptr<Tokenizer> tokenizer;  // text only; null for tokens and synthetic
  Corpus train;
  Corpus val;  // empty when there is no validation set
  int64_t vocab_size = 0;
  int32_t eos_id = -1;  // the end-of-document id, or -1
  int32_t pad_id = 0;   // fills padded positions: eos_id, or 0 without one
};

enum class Split { train, val };

// The tokenizer a config asks for. A sentencepiece model to train is trained on `training_text`
// into `run_dir`/tokenizer.model, or loaded from there when it exists (a resumed run).
std::shared_ptr<Tokenizer> build_tokenizer(const TokenizerConfig& cfg, const std::vector<std::string>& training_text,
                                           const std::string& run_dir);

// The documents encoded one after another, each followed by eos_id when it is >= 0.
Corpus encode_documents(const std::vector<TextDocument>& docs, const Tokenizer& tokenizer, int32_t eos_id,
                        const std::string& name);

// Memory-mapped token files, each a document; with eos_id >= 0 a document also ends after
// every eos_id token.
Corpus read_token_files(const std::vector<std::string>& files, TokenFileFormat format, int64_t vocab_size,
                        int32_t eos_id);

// Splits off the last `fraction` of the tokens (by_documents false) or of the documents.
// Throws (naming `where`) when either side would be empty.
std::pair<Corpus, Corpus> split_corpus(const Corpus& corpus, double fraction, bool by_documents,
                                       const std::string& where);

Dataset build_dataset(const DataConfig& cfg, const std::string& run_dir);

// Throws when the data does not fit a model of `vocab` ids and `max_length` positions (0: no
// limit): ids at or past vocab, or rows of more than max_length tokens. Before any step, so a
// run that cannot train never starts and `gau eval --set data...` fails with the reason.
void check_data_fits_model(const Dataset& ds, const LoaderOptions& rows, int64_t vocab, int64_t max_length);

// A run keeps its own copy of a sentencepiece model file it loads (data.tokenizer.model), as
// `run_dir`/tokenizer.model, so that eval, generate and resume read the tokenizer the run trained
// with even when the file has moved or changed since; build_tokenizer prefers that copy. Does
// nothing for other tokenizers or when the copy exists.
void keep_tokenizer_in_run(const TokenizerConfig& cfg, const std::string& run_dir);

// cfg.loader for one split: validation is never shuffled nor dropped; the pad id is the data's.
LoaderOptions loader_options(const DataConfig& cfg, const Dataset& ds, Split split, int64_t rank = 0,
                             int64_t world_size = 1);

}  // namespace gau::data
