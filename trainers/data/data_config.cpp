#include "trainers/data/data_config.h"

#include <algorithm>
#include <filesystem>

#include "layers/config_reader.h"

namespace gau::data {

using layers::ConfigReader;
using layers::Range;

namespace {

TokenizerConfig read_tokenizer(ConfigReader& parent, const std::string& file) {
  ConfigReader r(parent.raw("tokenizer"), parent.path() + ".tokenizer", file);
  r.explain({{"type", "byte: the 256 byte values; sentencepiece: a loaded or trained sentencepiece model"},
             {"model", "sentencepiece: a .model file to load"},
             {"train", "sentencepiece: train a model on the training text into the run directory"}});
  TokenizerConfig c;
  c.where = r.where("");
  c.type = r.choice("type", {"byte", "sentencepiece"}, "byte");
  if (c.type == "sentencepiece") {
    c.model = r.string("model", "");
    const YAML::Node train = r.raw("train", "map of the sentencepiece trainer's keys", layers::ReadKey::Need::optional);
    c.train = train.IsDefined();
    if (c.model.empty() == !c.train)
      r.fail(c.train ? "train" : "",
             "a sentencepiece tokenizer takes either model: PATH (a .model file to load) or "
             "train: {vocab_size: N, ...} (train one on the corpus), not both and not neither");
    if (c.train) {
      ConfigReader t(train, r.path() + ".train", file);
      t.explain({{"vocab_size", "pieces in the vocabulary"},
                 {"model_type", "the sentencepiece algorithm"},
                 {"character_coverage", "share of the text's characters the pieces must cover"},
                 {"byte_fallback", "characters outside the vocabulary become UTF-8 byte pieces"},
                 {"max_sentences", "lines sampled for training; 0: all"}});
      SentencePieceTrainOptions& o = c.train_options;
      o.vocab_size = t.integer("vocab_size", o.vocab_size, Range::at_least(8));
      o.model_type = t.choice("model_type", {"unigram", "bpe", "char", "word"}, o.model_type);
      o.character_coverage = t.number("character_coverage", o.character_coverage, Range::between(0.9, 1.0));
      o.byte_fallback = t.boolean("byte_fallback", o.byte_fallback);
      o.max_sentences = t.integer("max_sentences", o.max_sentences, Range::at_least(0));
      if (o.byte_fallback && o.vocab_size < 260)
        t.fail("vocab_size",
               "byte_fallback needs 260 pieces (256 bytes, <unk>, <s>, </s> and newline) plus one per "
               "character of the corpus, got " +
                   std::to_string(o.vocab_size) + "; raise it or set byte_fallback: false");
      t.check_no_unknown_keys();
      r.record("train", t.filled());
    }
  }
  r.check_no_unknown_keys();
  parent.record("tokenizer", r.filled());
  return c;
}

void read_task(ConfigReader& parent, const std::string& file, DataConfig& c) {
  ConfigReader r(parent.raw("task"), parent.path() + ".task", file);
  r.explain({{"type", "copy the symbols, recall the value of a key, or sort the symbols"},
             {"vocab_size", "ids: 0 is padding, 1 the separator, then the symbols"},
             {"length", "copy, sorting: symbols per example"},
             {"pairs", "associative_recall: key-value pairs per example"},
             {"queries", "associative_recall: keys asked per example"},
             {"train_examples", "examples in the training set"},
             {"val_examples", "examples in the validation set; 0: none"}});
  SyntheticTask& t = c.task;
  t.kind = synthetic_kind(r.choice("type", {"copy", "associative_recall", "sorting"}, "associative_recall"));
  t.vocab_size = r.integer("vocab_size", t.vocab_size, Range::at_least(4));
  if (t.kind == SyntheticKind::associative_recall) {
    r.document("pairs", "integer in [1, vocab_size - 2]", "min(8, vocab_size - 2)");
    r.document("queries", "integer in [1, pairs]", "1");
    t.pairs = r.integer("pairs", std::min<int64_t>(t.pairs, t.symbols()), Range::between(1, t.symbols()));
    t.queries = r.integer("queries", t.queries, Range::between(1, t.pairs));
  } else {
    t.length = r.integer("length", t.length, Range::at_least(1));
  }
  c.train_examples = r.integer("train_examples", c.train_examples, Range::at_least(1));
  c.val_examples = r.integer("val_examples", c.val_examples, Range::at_least(0));
  r.check_no_unknown_keys();
  parent.record("task", r.filled());
}

int64_t parse_eos(ConfigReader& r) {
  const std::string s = r.string("eos", "auto");
  if (s == "auto") return kEosAuto;
  if (s == "none") return kEosNone;
  size_t used = 0;
  int64_t id = -1;
  try {
    id = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || id < 0) r.fail("eos", "expected auto, none or a token id >= 0, got '" + s + "'");
  return id;
}

}  // namespace

DataConfig read_data_config(const YAML::Node& node, const std::string& file, const std::string& path) {
  ConfigReader r(node, path, file);
  DataConfig c;
  r.explain({{"source", "text files, token files (nanoGPT or llm.c .bin), or a synthetic task"},
             {"path", "a file, or a directory read recursively in sorted order (tokens: its *.bin files)"},
             {"val_path", "a separate validation set, read like path"},
             {"val_fraction", "share of path held out for validation; 0: no validation set"},
             {"val_split", "hold out the last tokens (cutting a document if need be) or the last whole documents"},
             {"format", "nanogpt: raw uint16; llmc: llm.c's 1 KiB header, then uint16 or uint32 tokens"},
             {"vocab_size", "every token must be below it (GPT-2: 50257)"},
             {"eos", "end-of-document id: auto (text: the tokenizer's; tokens: none), none, or an id"},
             {"seq_len", "tokens per row (synthetic: whole examples per row)"},
             {"batch_size", "rows per rank and step"},
             {"shuffle", "reshuffle the training rows every epoch"},
             {"seed", "seeds the shuffle, the synthetic examples and sentencepiece's sampling"},
             {"packing", "documents concatenated into full rows; false: each document in rows of its own, padded"},
             {"mask_across_documents", "packing: no target across a document end"},
             {"drop_last", "drop each epoch's last, partly filled step instead of padding it with empty rows"},
             {"prefetch", "batches made ahead on a background thread; 0: none"}});
  c.where[""] = r.where("");
  c.source = r.choice("source", {"text", "tokens", "synthetic"}, "text");
  const bool synthetic = c.source == "synthetic";
  if (!synthetic) {
    c.path = r.string("path");
    c.val_path = r.string("val_path", "");
    r.document("val_fraction", "number in [0, 0.5]", "0.05, or 0 with val_path");
    c.val_fraction = r.number("val_fraction", c.val_path.empty() ? 0.05 : 0.0, Range::between(0, 0.5));
    if (!c.val_path.empty() && c.val_fraction > 0)
      r.fail("val_fraction", "must be 0 when val_path gives the validation set, got " + std::to_string(c.val_fraction));
    c.val_split = r.choice("val_split", {"tokens", "documents"}, "tokens");
  }
  if (c.source == "text") c.tokenizer = read_tokenizer(r, file);
  if (c.source == "tokens") {
    c.format =
        r.choice("format", {"nanogpt", "llmc"}, "nanogpt") == "llmc" ? TokenFileFormat::llmc : TokenFileFormat::nanogpt;
    c.vocab_size = r.integer("vocab_size", c.vocab_size, Range::between(1, 2147483647.0));
  }
  if (synthetic) read_task(r, file, c);
  if (!synthetic) c.eos = parse_eos(r);

  LoaderOptions& o = c.loader;
  const int64_t example = c.task.example_length();
  if (synthetic) r.document("seq_len", "integer >= one example's length", "one example's length");
  o.seq_len = r.integer("seq_len", synthetic ? example : o.seq_len, Range::at_least(1));
  if (synthetic && o.seq_len < example)
    r.fail("seq_len", "one " + synthetic_name(c.task.kind) + " example is " + std::to_string(example) +
                          " tokens and a row holds whole examples: seq_len must be >= " + std::to_string(example) +
                          ", got " + std::to_string(o.seq_len));
  o.batch_size = r.integer("batch_size", o.batch_size, Range::at_least(1));
  o.shuffle = r.boolean("shuffle", o.shuffle);
  o.seed = static_cast<uint64_t>(r.integer("seed", 1, Range::at_least(0)));
  o.packing = r.boolean("packing", !synthetic);
  if (synthetic && o.packing)
    r.fail("packing", "a synthetic source is never packed: each row holds whole examples; leave packing out");
  o.mask_across_documents = r.boolean("mask_across_documents", o.mask_across_documents);
  o.drop_last = r.boolean("drop_last", o.drop_last);
  o.prefetch = r.integer("prefetch", o.prefetch, Range::between(0, 64));
  c.tokenizer.train_options.seed = o.seed;
  for (const char* key : {"path", "val_path", "val_fraction", "eos", "seq_len", "batch_size"})
    c.where[key] = r.where(key);
  r.check_no_unknown_keys();
  c.filled = r.filled();
  return c;
}

YAML::Node with_absolute_paths(const YAML::Node& data) {
  YAML::Node out = YAML::Clone(data);
  auto absolute = [](YAML::Node node) {
    if (node && node.IsScalar() && !node.Scalar().empty())
      node = std::filesystem::absolute(node.Scalar()).lexically_normal().string();
  };
  if (!out.IsMap()) return out;
  absolute(out["path"]);
  absolute(out["val_path"]);
  if (out["tokenizer"] && out["tokenizer"].IsMap()) absolute(out["tokenizer"]["model"]);
  return out;
}

int64_t vocabulary_from_config(const DataConfig& cfg) {
  if (cfg.source == "tokens") return cfg.vocab_size;
  if (cfg.source == "synthetic") return cfg.task.vocab_size;
  if (cfg.tokenizer.type == "byte") return 256;
  return cfg.tokenizer.train ? cfg.tokenizer.train_options.vocab_size : 0;
}

}  // namespace gau::data
