#include "trainers/data/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <string_view>
#include <unordered_map>

#include "core/error.h"

namespace gau::data {

struct SentencePieceTokenizer::Impl {
  sentencepiece::SentencePieceProcessor sp;
};

namespace {

// The non-empty lines of the documents, one training sentence each.
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string>& docs) : docs_(docs) { advance(); }
  bool done() const override { return doc_ >= docs_.size(); }
  void Next() override { advance(); }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void advance() {
    while (doc_ < docs_.size()) {
      const std::string& d = docs_[doc_];
      if (pos_ >= d.size()) {
        ++doc_, pos_ = 0;
        continue;
      }
      size_t end = d.find('\n', pos_);
      if (end == std::string::npos) end = d.size();
      line_.assign(d, pos_, end - pos_);
      pos_ = end + 1;
      if (!line_.empty()) return;
    }
  }

  const std::vector<std::string>& docs_;
  size_t doc_ = 0, pos_ = 0;
  std::string line_;
};

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path)
    : impl_(std::make_unique<Impl>()), path_(model_path) {
  const auto status = impl_->sp.Load(model_path);
  GAU_CHECK(status.ok(), model_path, ": cannot load the sentencepiece model: ", status.ToString());
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::shared_ptr<SentencePieceTokenizer> SentencePieceTokenizer::train(const std::vector<std::string>& documents,
                                                                      const SentencePieceTrainOptions& options,
                                                                      const std::string& model_path) {
  namespace fs = std::filesystem;
  GAU_CHECK(model_path.ends_with(".model"), "sentencepiece: the model path must end in .model, got '", model_path, "'");
  const std::string prefix = model_path.substr(0, model_path.size() - 6);
  const std::string tmp = prefix + ".training";
  const std::unordered_map<std::string, std::string> args = {
      {"model_prefix", tmp},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"model_type", options.model_type},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"byte_fallback", options.byte_fallback ? "true" : "false"},
      {"input_sentence_size", std::to_string(options.max_sentences)},
      {"shuffle_input_sentence", "true"},
      {"max_sentence_length", "65536"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"user_defined_symbols", "\n"},
      {"minloglevel", "2"},  // the trainer's progress log goes to stderr otherwise
  };
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(options.seed));
  LineIterator lines(documents);
  GAU_CHECK(!lines.done(), "sentencepiece: the training corpus has no non-empty lines");
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &lines);
  GAU_CHECK(status.ok(), "sentencepiece training (vocab_size ", options.vocab_size, ", model_type ", options.model_type,
            ") failed: ", status.ToString());
  for (const char* ext : {".vocab", ".model"}) {
    std::error_code ec;
    fs::rename(tmp + ext, prefix + ext, ec);
    GAU_CHECK(!ec, prefix, ext, ": cannot move the trained file into place: ", ec.message());
  }
  return std::make_shared<SentencePieceTokenizer>(model_path);
}

std::vector<int32_t> SentencePieceTokenizer::encode(const std::string& text) const {
  std::vector<int32_t> out;
  std::vector<int> ids;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    const auto status = impl_->sp.Encode(std::string_view(text).substr(pos, end - pos), &ids);
    GAU_CHECK(status.ok(), name(), ": encode failed at byte ", pos, ": ", status.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
    pos = end;
  }
  return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& ids) const {
  const int64_t v = vocab_size();
  for (size_t i = 0; i < ids.size(); ++i)
    GAU_CHECK(ids[i] >= 0 && ids[i] < v, name(), ": id ", ids[i], " at position ", i, " is outside the vocabulary [0, ",
              v, ")");
  std::string text;
  const auto status = impl_->sp.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  GAU_CHECK(status.ok(), name(), ": decode failed: ", status.ToString());
  return text;
}

int64_t SentencePieceTokenizer::vocab_size() const { return impl_->sp.GetPieceSize(); }

int32_t SentencePieceTokenizer::eos_id() const { return impl_->sp.eos_id(); }

YAML::Node SentencePieceTokenizer::config() const {
  YAML::Node n;
  n["type"] = "sentencepiece";
  n["model"] = path_;
  return n;
}

}  // namespace gau::data
