#include "layers/models/language_model.h"

#include <sstream>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "core/rng.h"
#include "layers/module_summary.h"
#include "layers/registry.h"

namespace gau::layers {

LanguageModelOptions read_model_options(ConfigReader& r) {
  r.explain({{"vocab", "vocabulary size: token ids are in [0, vocab)"},
             {"dim", "width of the embeddings and of every block"},
             {"max_length", "longest sequence the model takes (set on every block)"},
             {"final_norm", "the norm after the last block"},
             {"norm_eps", "epsilon of final_norm"},
             {"loss_chunk_rows", "rows of logits the loss computes at a time, so [tokens, vocab] is never held; 0: all"},
             {"ignore_index", "a target id that adds no loss (padding)"},
             {"embedding_init_std", "the embedding table starts N(0, embedding_init_std)"}});
  LanguageModelOptions o;
  o.vocab = r.integer("vocab", Range::at_least(1));
  o.dim = r.integer("dim", Range::at_least(1));
  o.max_length = r.integer("max_length", 512, Range::at_least(1));
  o.final_norm = read_optional_norm(r, "final_norm", "rms_norm");
  o.norm_eps = r.number("norm_eps", 1e-5, Range::greater_than(0));
  o.loss_chunk_rows = r.integer("loss_chunk_rows", 2048, Range::at_least(0));
  o.ignore_index = r.integer("ignore_index", -100);
  o.embedding_init_std = r.number("embedding_init_std", 0.02, Range::greater_than(0));
  return o;
}

Tensor example_token_ids(int64_t b, int64_t n, int64_t vocab, Device device, uint64_t seed) {
  std::vector<int64_t> ids(static_cast<size_t>(b * n));
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<int64_t>(philox_uniform(seed, 0, i) * static_cast<float>(vocab)) % vocab;
  return ops::from_vector<int64_t>(ids, {b, n}, device);
}

LanguageModel::LanguageModel(const LanguageModelOptions& options, std::vector<std::shared_ptr<SequenceBlock>> blocks)
    : Module("LanguageModel"), options_(options) {
  GAU_CHECK(options.max_length > 0, "LanguageModel: max_length must be > 0, got ", options.max_length);
  for (const auto& block : blocks) {
    GAU_CHECK(block != nullptr, "LanguageModel: a block is null");
    GAU_CHECK(block->width() == options.dim && block->is_causal(), "LanguageModel: ", block->where(),
              " must be causal with width ", options.dim, ", is ", block->is_causal() ? "causal" : "bidirectional",
              " with width ", block->width());
  }
  embed_ =
      register_module("embed", std::make_shared<Embedding>(options.vocab, options.dim, options.embedding_init_std));
  blocks_ = register_module("blocks", std::make_shared<BlockList>(std::move(blocks)));
  norm_ = make_optional_norm(options.final_norm, options.dim, options.norm_eps);
  if (norm_) register_module("norm", norm_);
  if (!options.tie_embeddings) {
    LinearOptions head;
    head.bias = false;
    head.init = LinearInit::normal;
    head.init_std = options.embedding_init_std;
    head_ = register_module("head", std::make_shared<Linear>(options.dim, options.vocab, head));
  }
}

Tensor LanguageModel::hidden(const Tensor& ids, const SequenceInfo& info) {
  check_token_batch(*this, ids, options_.max_length, info);
  Tensor x = blocks_->forward_sequence(embed_->forward(ids), info);  // [b, n, d]
  return norm_ ? norm_->forward(x) : x;
}

const Tensor& LanguageModel::output_weight() const { return head_ ? head_->weight() : embed_->weight(); }

Tensor LanguageModel::project(const Tensor& h) const { return head_ ? head_->forward(h) : embed_->attend(h); }

Tensor LanguageModel::logits(const Tensor& ids, const SequenceInfo& info) { return project(hidden(ids, info)); }

Tensor LanguageModel::loss(const Tensor& ids, const Tensor& targets, const SequenceInfo& info) {
  GAU_CHECK(targets.defined() && (targets.dtype() == DType::i32 || targets.dtype() == DType::i64) &&
                targets.shape() == ids.shape() && targets.device() == ids.device(),
            where(), ": loss expects targets shaped like the ids ", describe(ids), " (i32 or i64, same device), got ",
            targets.defined() ? describe(targets) : std::string("an undefined tensor"));
  const Tensor h = hidden(ids, info);  // [b, n, d]
  LinearCrossEntropyOptions opt;
  opt.ce.ignore_index = options_.ignore_index;
  opt.chunk_rows = options_.loss_chunk_rows;
  const Tensor rows = gau::reshape(h, {h.size(0) * h.size(1), options_.dim});  // [b n, d]
  const Tensor counted = ignore_padding(targets, info, options_.ignore_index);
  return linear_cross_entropy(rows, output_weight(), gau::reshape(counted, {targets.numel()}), opt);
}

LanguageModelCache LanguageModel::start_decoding(int64_t batch, int64_t max_length) const {
  GAU_CHECK(batch >= 1 && max_length >= 1 && max_length <= options_.max_length, where(),
            ": start_decoding needs batch >= 1 and max_length in [1, ", options_.max_length, "], got batch ", batch,
            ", max_length ", max_length);
  LanguageModelCache cache;
  cache.batch = batch;
  cache.max_length = max_length;
  for (const auto& block : blocks_->blocks()) cache.blocks.push_back(block->start_decoding(batch, max_length));
  return cache;
}

Tensor LanguageModel::decode_logits(const Tensor& ids, LanguageModelCache& cache) {
  NoGradGuard no_grad;
  check_token_batch(*this, ids, options_.max_length, {});
  GAU_CHECK(cache.blocks.size() == blocks_->size(), where(), ": the cache holds ", cache.blocks.size(),
            " block caches, the model has ", blocks_->size(), " blocks (make it with this model's start_decoding)");
  GAU_CHECK(ids.size(0) == cache.batch && cache.position + ids.size(1) <= cache.max_length, where(),
            ": decode_logits got ids ", describe(ids), " at position ", cache.position, " of a cache for batch ",
            cache.batch, " and max_length ", cache.max_length);
  Tensor x = embed_->forward(ids);  // [b, m, d]
  for (size_t i = 0; i < blocks_->size(); ++i) x = (*blocks_)[i].decode(x, *cache.blocks[i]);
  cache.position += ids.size(1);
  return project(norm_ ? norm_->forward(x) : x);
}

std::string LanguageModel::summary() const {
  std::ostringstream os;
  os << where() << ": vocab " << options_.vocab << ", dim " << options_.dim << ", " << blocks_->size() << " blocks, "
     << (head_ ? "untied" : "tied") << " output projection\n"
     << parameter_summary(*this, 2);
  return os.str();
}

std::shared_ptr<Module> LanguageModel::from_config(ConfigReader& r) {
  r.explain({{"tie_embeddings", "the logits use the embedding table; false: a separate output projection"}});
  LanguageModelOptions o = read_model_options(r);
  std::vector<std::shared_ptr<SequenceBlock>> blocks = read_block_stack(r, {.dim = o.dim, .causal = true, .max_length = o.max_length});
  o.tie_embeddings = r.boolean("tie_embeddings", true);
  return std::make_shared<LanguageModel>(o, std::move(blocks));
}

// A stack of no blocks (a bigram model): the registry test builds every example from the types
// libgau registers alone, whichever blocks those are; tests/layers/models/ run real stacks.
const char* LanguageModel::example_config() { return "{vocab: 11, dim: 6, max_length: 8, blocks: []}"; }

Tensor LanguageModel::example_input(const LanguageModel& m, uint64_t seed) {
  return example_token_ids(2, 5, m.options().vocab, m.embedding().weight().device(), seed);
}

GAU_REGISTER_LAYER("language_model", LanguageModel);

}  // namespace gau::layers
