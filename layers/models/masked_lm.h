#pragma once
// MaskedLm: a bidirectional encoder (the same block stack as LanguageModel, with causal: false)
// and a BERT-style masked-language-model head, the paper's other setting.
//
//   ids [b, n] -> embed -> blocks (every token sees every valid token) -> final norm -> h [b, n, d]
//   head:  t = head_norm(act(h W_dᵀ + b_d))      W_d [d, d]
//          logits = t Eᵀ                          E = the embedding table [V, d] (tied)
//
// The tied projection has no output bias: the loss is linear_cross_entropy over the table itself,
// so the [rows, V] logits are never held. loss() runs the head on the masked rows only (targets
// != ignore_index, inside key_lengths), gathered from h, so its cost scales with the ~15% of
// rows that are predicted.
//
// Config:
//   {type: masked_lm, vocab: 256, dim: 128, max_length: 512,
//    blocks: {type: gau}, layers: 4,          (layers/models/block_stack.h)
//    final_norm: rms_norm, norm_eps: 1e-5,
//    head_activation: gelu,                   gelu | relu | silu
//    head_norm: layer_norm,                   rms_norm | layer_norm | scale_norm | none
//    mask_token: 255,                         default vocab - 1: reserve the last id for [MASK]
//    loss_chunk_rows: 2048, ignore_index: -100, embedding_init_std: 0.02}
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/block.h"
#include "layers/embedding.h"
#include "layers/linear.h"
#include "layers/models/block_stack.h"
#include "layers/models/language_model.h"
#include "layers/models/mlm_masking.h"
#include "layers/module.h"

namespace gau::layers {

enum class HeadActivation { gelu, relu, silu };

struct MaskedLmOptions {
  LanguageModelOptions model;  // tie_embeddings is ignored: the head is always tied
  HeadActivation head_activation = HeadActivation::gelu;
  std::optional<NormKind> head_norm = NormKind::layer_norm;  // nullopt: none
  int64_t mask_token = 0;
};

class MaskedLm : public Module {
 public:
  // `blocks`: bidirectional, each of width options.model.dim.
  MaskedLm(const MaskedLmOptions& options, std::vector<std::shared_ptr<SequenceBlock>> blocks);

  // ids [b, n] (i32/i64) -> h [b, n, d], the encoder's output after the final norm.
  Tensor hidden(const Tensor& ids, const SequenceInfo& info = {});
  // ids [b, n] -> logits [b, n, V] at every position (holds them all: for inspection).
  Tensor logits(const Tensor& ids, const SequenceInfo& info = {});
  // The registry's single-input hook: logits(ids), through which every parameter takes part.
  Tensor forward(const Tensor& ids) override { return logits(ids); }
  // ids [b, n] (the masked inputs), targets [b, n] (ignore_index except at masked positions) ->
  // scalar mean cross-entropy over the masked positions inside key_lengths; 0 (still connected to
  // the parameters) when there are none.
  Tensor loss(const Tensor& ids, const Tensor& targets, const SequenceInfo& info = {});
  // BERT masking of ids [b, n] with this model's mask token, vocab and ignore_index.
  MaskedTokens mask(const Tensor& ids, Generator& gen, const SequenceInfo& info = {}) const;

  const MaskedLmOptions& options() const { return options_; }
  const Embedding& embedding() const { return *embed_; }
  const BlockList& blocks() const { return *blocks_; }
  // A header line and the parameters per module, with the total.
  std::string summary() const;

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const MaskedLm& m, uint64_t seed);  // ids i64 [2, 5]

 private:
  // h [..., d] -> t [..., d], the head before the tied projection.
  Tensor transform(const Tensor& h) const;

  MaskedLmOptions options_;
  std::shared_ptr<Embedding> embed_;
  std::shared_ptr<BlockList> blocks_;
  std::shared_ptr<Module> norm_;       // null for final_norm none
  std::shared_ptr<Linear> dense_;      // the head's d -> d
  std::shared_ptr<Module> head_norm_;  // null for head_norm none
};

}  // namespace gau::layers
