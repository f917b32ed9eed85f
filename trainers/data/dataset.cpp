#include "trainers/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>

#include "core/error.h"
#include "trainers/atomic_file.h"
#include "trainers/data/sentencepiece_tokenizer.h"
#include "trainers/data/synthetic.h"
#include "trainers/data/token_source.h"

namespace gau::data {

namespace fs = std::filesystem;

namespace {

// Where a run keeps its sentencepiece model, trained or copied (RunDir::tokenizer_path).
fs::path run_tokenizer(const std::string& run_dir) { return fs::path(run_dir) / "tokenizer.model"; }

}  // namespace

std::shared_ptr<Tokenizer> build_tokenizer(const TokenizerConfig& cfg, const std::vector<std::string>& training_text,
                                           const std::string& run_dir) {
  if (cfg.type == "byte") return std::make_shared<ByteTokenizer>();
  GAU_CHECK(cfg.type == "sentencepiece", cfg.where, ": unknown tokenizer type '", cfg.type,
            "'; expected byte or sentencepiece");
  const std::string model = run_dir.empty() ? "" : run_tokenizer(run_dir).string();
  try {
    if (!cfg.train)
      return std::make_shared<SentencePieceTokenizer>(!model.empty() && fs::exists(model) ? model : cfg.model);
    GAU_CHECK(!run_dir.empty(), "training a sentencepiece model needs a run directory to write tokenizer.model into");
    const int64_t want = cfg.train_options.vocab_size;
    if (fs::exists(model)) {
      auto loaded = std::make_shared<SentencePieceTokenizer>(model);
      GAU_CHECK(loaded->vocab_size() == want, model, " (trained by an earlier run in this directory) has ",
                loaded->vocab_size(), " pieces, but train.vocab_size is ", want,
                "; use a new run directory or delete the model to train again");
      return loaded;
    }
    fs::create_directories(run_dir);
    return SentencePieceTokenizer::train(training_text, cfg.train_options, model);
  } catch (const Error& e) {
    GAU_FAIL(cfg.where, ": ", error_message(e));
  }
}

void keep_tokenizer_in_run(const TokenizerConfig& cfg, const std::string& run_dir) {
  if (cfg.type != "sentencepiece" || cfg.train) return;
  const fs::path copy = run_tokenizer(run_dir);
  if (fs::exists(copy)) return;
  // Written the way checkpoints are (fsync'd, renamed, the directory fsync'd): the run's later
  // commands read this copy and never the original again.
  std::ifstream in(cfg.model, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  GAU_CHECK(in && !in.bad(), cfg.where, ": cannot copy ", cfg.model, " into the run as ", copy.string(),
            ": ", std::strerror(errno));
  trainers::write_file_atomic(copy, bytes);
}

Corpus encode_documents(const std::vector<TextDocument>& docs, const Tokenizer& tokenizer, int32_t eos_id,
                        const std::string& name) {
  std::vector<int32_t> tokens;
  std::vector<int64_t> starts;
  for (const TextDocument& d : docs) {
    const size_t before = tokens.size();
    const std::vector<int32_t> ids = tokenizer.encode(d.text);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    if (eos_id >= 0) tokens.push_back(eos_id);
    if (tokens.size() > before) starts.push_back(static_cast<int64_t>(before));
  }
  std::vector<std::shared_ptr<const TokenSource>> sources;
  if (!tokens.empty()) sources.push_back(std::make_shared<TokenVector>(std::move(tokens), name));
  return Corpus(std::move(sources), std::move(starts));
}

Corpus read_token_files(const std::vector<std::string>& files, TokenFileFormat format, int64_t vocab_size,
                        int32_t eos_id) {
  std::vector<std::shared_ptr<const TokenSource>> sources;
  std::vector<int64_t> starts;
  int64_t begin = 0;
  std::vector<int32_t> chunk;
  for (const std::string& f : files) {
    auto file = std::make_shared<MappedTokenFile>(f, format, vocab_size);
    const int64_t n = file->size();
    if (n == 0) continue;
    starts.push_back(begin);
    if (eos_id >= 0) {
      for (int64_t at = 0; at < n; at += int64_t{1} << 20) {
        const int64_t count = std::min<int64_t>(n - at, int64_t{1} << 20);
        chunk.resize(static_cast<size_t>(count));
        file->read(at, count, chunk.data());
        for (int64_t i = 0; i < count; ++i)
          if (chunk[i] == eos_id && at + i + 1 < n) starts.push_back(begin + at + i + 1);
      }
    }
    begin += n;
    sources.push_back(std::move(file));
  }
  GAU_CHECK(!sources.empty() || files.empty(), files.front(),
            files.size() > 1 ? " and " + std::to_string(files.size() - 1) + " more files" : std::string(),
            ": no tokens (an llm.c header with a count of 0)");
  return Corpus(std::move(sources), std::move(starts));
}

std::pair<Corpus, Corpus> split_corpus(const Corpus& corpus, double fraction, bool by_documents,
                                       const std::string& where) {
  if (fraction <= 0 || corpus.empty()) return {corpus, Corpus()};
  int64_t cut = 0;
  if (by_documents) {
    const int64_t d = corpus.num_documents();
    const auto held = static_cast<int64_t>(std::ceil(fraction * static_cast<double>(d)));
    GAU_CHECK(held < d, where, ": holding out ", fraction, " of ", d, " document", d == 1 ? "" : "s",
              " leaves none for training; use val_split: tokens, more documents, or val_path");
    cut = corpus.document_begin(d - held);
  } else {
    const int64_t t = corpus.size();
    const auto held = static_cast<int64_t>(std::ceil(fraction * static_cast<double>(t)));
    GAU_CHECK(held < t, where, ": holding out ", fraction, " of ", t, " tokens leaves none for training");
    cut = t - held;
  }
  return {corpus.slice(0, cut), corpus.slice(cut, corpus.size())};
}

namespace {

// The configured end-of-document id for a vocabulary, checked against it.
int32_t resolve_eos(const DataConfig& cfg, int32_t automatic, int64_t vocab_size) {
  if (cfg.eos == kEosAuto) return automatic;
  if (cfg.eos == kEosNone) return -1;
  GAU_CHECK(cfg.eos < vocab_size, cfg.where.at("eos"), ": eos id ", cfg.eos, " is not below the vocabulary size ",
            vocab_size);
  return static_cast<int32_t>(cfg.eos);
}

// data.path and data.val_path (when given) name something, before anything is read.
void check_data_paths_exist(const DataConfig& cfg) {
  for (const char* key : {"path", "val_path"}) {
    const std::string& p = std::string(key) == "path" ? cfg.path : cfg.val_path;
    std::error_code ec;
    GAU_CHECK(p.empty() || fs::exists(p, ec), cfg.where.at(key), ": ", p,
              " does not exist (a relative path is read from the directory gau was started in)");
  }
}

// read() of the files data.<key> names, its errors (an empty directory, a corrupt gzip, a run
// directory given as data) prefixed with where that key is in the config.
template <typename Read>
auto read_at(const DataConfig& cfg, const char* key, Read&& read) {
  try {
    return read();
  } catch (const Error& e) {
    GAU_FAIL(cfg.where.at(key), ": ", error_message(e));
  }
}

void build_text(const DataConfig& cfg, const std::string& run_dir, Dataset& ds) {
  check_data_paths_exist(cfg);
  const std::vector<TextDocument> docs =
      read_at(cfg, "path", [&] { return read_text_documents(cfg.path); });
  GAU_CHECK(std::any_of(docs.begin(), docs.end(), [](const TextDocument& d) { return !d.text.empty(); }),
            cfg.where.at("path"), ": ", cfg.path, " holds no text: ", docs.size() == 1 ? "the file is" : "its files are",
            " empty");
  std::vector<TextDocument> val_docs;
  if (!cfg.val_path.empty())
    val_docs = read_at(cfg, "val_path", [&] { return read_text_documents(cfg.val_path); });
  std::vector<std::string> text;
  if (cfg.tokenizer.train)
    for (const TextDocument& d : docs) text.push_back(d.text);
  ds.tokenizer = build_tokenizer(cfg.tokenizer, text, run_dir);
  ds.vocab_size = ds.tokenizer->vocab_size();
  ds.eos_id = resolve_eos(cfg, ds.tokenizer->eos_id(), ds.vocab_size);
  const Corpus all = encode_documents(docs, *ds.tokenizer, ds.eos_id, cfg.path);
  if (cfg.val_path.empty()) {
    std::tie(ds.train, ds.val) =
        split_corpus(all, cfg.val_fraction, cfg.val_split == "documents", cfg.where.at("val_fraction"));
  } else {
    ds.train = all;
    ds.val = encode_documents(val_docs, *ds.tokenizer, ds.eos_id, cfg.val_path);
  }
}

void build_tokens(const DataConfig& cfg, Dataset& ds) {
  check_data_paths_exist(cfg);
  ds.vocab_size = cfg.vocab_size;
  ds.eos_id = resolve_eos(cfg, -1, cfg.vocab_size);
  const auto bin_files = [](const std::string& path) { return list_files(path, fs::is_directory(path) ? ".bin" : ""); };
  const Corpus all = read_token_files(read_at(cfg, "path", [&] { return bin_files(cfg.path); }), cfg.format,
                                      cfg.vocab_size, ds.eos_id);
  if (cfg.val_path.empty()) {
    std::tie(ds.train, ds.val) =
        split_corpus(all, cfg.val_fraction, cfg.val_split == "documents", cfg.where.at("val_fraction"));
  } else {
    ds.train = all;
    ds.val = read_token_files(read_at(cfg, "val_path", [&] { return bin_files(cfg.val_path); }), cfg.format,
                              cfg.vocab_size, ds.eos_id);
  }
}

}  // namespace

Dataset build_dataset(const DataConfig& cfg, const std::string& run_dir) {
  Dataset ds;
  if (cfg.source == "text") {
    build_text(cfg, run_dir, ds);
  } else if (cfg.source == "tokens") {
    build_tokens(cfg, ds);
  } else {
    GAU_CHECK(cfg.source == "synthetic", cfg.where.at(""), ": unknown source '", cfg.source,
              "'; expected text, tokens or synthetic");
    ds.vocab_size = cfg.task.vocab_size;
    ds.train = make_synthetic(cfg.task, cfg.train_examples, cfg.loader.seed, 0);
    ds.val = make_synthetic(cfg.task, cfg.val_examples, cfg.loader.seed, 1);
  }
  ds.pad_id = ds.eos_id >= 0 ? ds.eos_id : 0;
  return ds;
}

void check_data_fits_model(const Dataset& ds, const LoaderOptions& rows, int64_t vocab, int64_t max_length) {
  GAU_CHECK(ds.vocab_size <= vocab, rows.name, ": the data's vocabulary has ", ds.vocab_size,
            " ids but model.vocab is ", vocab, ": set model.vocab to at least ", ds.vocab_size,
            " (a trained model's vocabulary is fixed: give it data of its own tokenizer)");
  GAU_CHECK(max_length <= 0 || rows.seq_len <= max_length, rows.name, ": rows of data.seq_len = ", rows.seq_len,
            " tokens, but model.max_length is ", max_length, ": raise model.max_length or lower data.seq_len");
}

LoaderOptions loader_options(const DataConfig& cfg, const Dataset& ds, Split split, int64_t rank, int64_t world_size) {
  LoaderOptions o = cfg.loader;
  o.rank = rank;
  o.world_size = world_size;
  o.pad_id = ds.pad_id;
  const std::string& section = cfg.where.at("");
  const std::string base = section.substr(0, section.find(' '));
  const std::string pos = section.size() > base.size() ? section.substr(base.size()) : "";
  if (split == Split::val) {
    o.shuffle = false;
    o.drop_last = false;
    o.name = base + ".val" + pos;
  } else {
    o.name = base + ".train" + pos;
  }
  return o;
}

}  // namespace gau::data
