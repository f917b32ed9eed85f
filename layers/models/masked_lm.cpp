#include "layers/models/masked_lm.h"

#include <sstream>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/module_summary.h"
#include "layers/registry.h"

namespace gau::layers {

MaskedLm::MaskedLm(const MaskedLmOptions& options, std::vector<std::shared_ptr<SequenceBlock>> blocks)
    : Module("MaskedLm"), options_(options) {
  const LanguageModelOptions& o = options.model;
  GAU_CHECK(o.max_length > 0, "MaskedLm: max_length must be > 0, got ", o.max_length);
  GAU_CHECK(options.mask_token >= 0 && options.mask_token < o.vocab, "MaskedLm: mask_token ", options.mask_token,
            " must be in [0, vocab = ", o.vocab, ")");
  for (const auto& block : blocks) {
    GAU_CHECK(block != nullptr, "MaskedLm: a block is null");
    GAU_CHECK(block->width() == o.dim && !block->is_causal(), "MaskedLm: ", block->where(),
              " must be bidirectional with width ", o.dim, ", is ", block->is_causal() ? "causal" : "bidirectional",
              " with width ", block->width());
  }
  embed_ = register_module("embed", std::make_shared<Embedding>(o.vocab, o.dim, o.embedding_init_std));
  blocks_ = register_module("blocks", std::make_shared<BlockList>(std::move(blocks)));
  norm_ = make_optional_norm(o.final_norm, o.dim, o.norm_eps);
  if (norm_) register_module("norm", norm_);
  dense_ = register_module("head_dense", std::make_shared<Linear>(o.dim, o.dim));
  head_norm_ = make_optional_norm(options.head_norm, o.dim, o.norm_eps);
  if (head_norm_) register_module("head_norm", head_norm_);
}

Tensor MaskedLm::hidden(const Tensor& ids, const SequenceInfo& info) {
  check_token_batch(*this, ids, options_.model.max_length, info);
  Tensor x = blocks_->forward_sequence(embed_->forward(ids), info);  // [b, n, d]
  return norm_ ? norm_->forward(x) : x;
}

Tensor MaskedLm::transform(const Tensor& h) const {
  const Tensor a = dense_->forward(h);
  const Tensor t = options_.head_activation == HeadActivation::gelu   ? gau::gelu(a)
                   : options_.head_activation == HeadActivation::relu ? gau::relu(a)
                                                                      : gau::silu(a);
  return head_norm_ ? head_norm_->forward(t) : t;
}

Tensor MaskedLm::logits(const Tensor& ids, const SequenceInfo& info) {
  return embed_->attend(transform(hidden(ids, info)));
}

Tensor MaskedLm::loss(const Tensor& ids, const Tensor& targets, const SequenceInfo& info) {
  GAU_CHECK(targets.defined() && (targets.dtype() == DType::i32 || targets.dtype() == DType::i64) &&
                targets.shape() == ids.shape() && targets.device() == ids.device(),
            where(), ": loss expects targets shaped like the ids ", describe(ids), " (i32 or i64, same device), got ",
            targets.defined() ? describe(targets) : std::string("an undefined tensor"));
  const int64_t d = options_.model.dim, ignore = options_.model.ignore_index;
  const Tensor h = gau::reshape(hidden(ids, info), {ids.numel(), d});  // [b n, d]
  // The predicted rows, found on the host: a mask touches ~15% of b n ids, a small copy.
  const Tensor counted =
      ops::contiguous(ops::to_dtype(ops::to_device(ignore_padding(targets, info, ignore), Device::cpu()), DType::i64));
  std::vector<int64_t> rows, row_targets;
  for (int64_t t = 0; t < counted.numel(); ++t)
    if (counted.data<int64_t>()[t] != ignore) rows.push_back(t), row_targets.push_back(counted.data<int64_t>()[t]);
  if (rows.empty()) return gau::mul(gau::sum(h), 0.0);
  const auto m = static_cast<int64_t>(rows.size());
  const Tensor picked = gau::embedding(h, ops::from_vector<int64_t>(rows, {m}, ids.device()));  // [m, d]
  LinearCrossEntropyOptions opt;
  opt.ce.ignore_index = ignore;
  opt.chunk_rows = options_.model.loss_chunk_rows;
  return linear_cross_entropy(transform(picked), embed_->weight(),
                              ops::from_vector<int64_t>(row_targets, {m}, ids.device()), opt);
}

MaskedTokens MaskedLm::mask(const Tensor& ids, Generator& gen, const SequenceInfo& info) const {
  MlmMasking opt;
  opt.mask_token = options_.mask_token;
  opt.vocab = options_.model.vocab;
  opt.ignore_index = options_.model.ignore_index;
  return mask_tokens(ids, gen, opt, info.key_lengths);
}

std::string MaskedLm::summary() const {
  std::ostringstream os;
  os << where() << ": vocab " << options_.model.vocab << ", dim " << options_.model.dim << ", " << blocks_->size()
     << " bidirectional blocks, MLM head tied to the embedding\n"
     << parameter_summary(*this, 2);
  return os.str();
}

std::shared_ptr<Module> MaskedLm::from_config(ConfigReader& r) {
  MaskedLmOptions o;
  o.model = read_model_options(r);
  r.explain({{"head_activation", "activation of the MLM head's dense layer"},
             {"head_norm", "the norm after the MLM head's dense layer"},
             {"mask_token", "the id that replaces masked tokens in the input ([MASK])"},
             {"tie_embeddings", "always true: the head's logits use the embedding table"}});
  std::vector<std::shared_ptr<SequenceBlock>> blocks = read_block_stack(r, {.dim = o.model.dim, .causal = false, .max_length = o.model.max_length});
  const std::string act = r.choice("head_activation", {"gelu", "relu", "silu"}, "gelu");
  o.head_activation = act == "relu"   ? HeadActivation::relu
                      : act == "silu" ? HeadActivation::silu
                                      : HeadActivation::gelu;
  o.head_norm = read_optional_norm(r, "head_norm", "layer_norm");
  // Read so that a language model's config carries over; untied is not built.
  if (!r.boolean("tie_embeddings", true))
    r.fail("tie_embeddings", "a masked_lm's head is always tied to the embedding table (its loss runs over the "
                             "table itself, never holding the logits); leave it out or set it true");
  r.document("mask_token", "integer in [0, vocab - 1]", "vocab - 1");
  o.mask_token = r.integer("mask_token", o.model.vocab - 1, Range::between(0, static_cast<double>(o.model.vocab - 1)));
  return std::make_shared<MaskedLm>(o, std::move(blocks));
}

// As LanguageModel's example: no blocks, so that the registry test builds it from libgau alone.
const char* MaskedLm::example_config() { return "{vocab: 11, dim: 6, max_length: 8, blocks: []}"; }

Tensor MaskedLm::example_input(const MaskedLm& m, uint64_t seed) {
  return example_token_ids(2, 5, m.options().model.vocab, m.embedding().weight().device(), seed);
}

GAU_REGISTER_LAYER("masked_lm", MaskedLm);

}  // namespace gau::layers
