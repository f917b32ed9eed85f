#pragma once
// LanguageModel: a decoder-only language model, a stack of causal SequenceBlocks (GAU, FLASH or
// Transformer++, or a mix) between a token embedding and tied or untied logits.
//
//   ids [b, n] -> x = embed(ids) [b, n, d] -> blocks -> h = final_norm(x) -> logits = h Wᵀ [b, n, V]
//   W = the embedding table [V, d] (tied) or the head's own weight [V, d]
//
// Positions are the blocks' business (RoPE or a relative bias inside each block), so the model
// adds no position embedding.
//
// Config:
//   {type: language_model, vocab: 256, dim: 128, max_length: 512,
//    blocks: {type: gau}, layers: 4,          (or a list of block configs: layers/models/block_stack.h)
//    final_norm: rms_norm, norm_eps: 1e-5,    rms_norm | layer_norm | scale_norm | none
//    tie_embeddings: true,                    false: a separate head, Linear d -> V without bias
//    loss_chunk_rows: 2048,                   rows of logits loss() holds at once (0: all)
//    ignore_index: -100, embedding_init_std: 0.02}
//
// The loss never holds the [b n, V] logits: loss() hands the flattened hidden rows and W to
// linear_cross_entropy (autograd/ops_loss.h), which computes them loss_chunk_rows at a time.
//
// Generation: start_decoding makes one DecodeCache per block; decode_logits runs m new tokens per
// call through every block's decode and returns their logits, equal to the same rows of
// logits() over the whole sequence.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/block.h"
#include "layers/config_reader.h"
#include "layers/embedding.h"
#include "layers/linear.h"
#include "layers/models/block_stack.h"
#include "layers/module.h"

namespace gau::layers {

struct LanguageModelOptions {
  int64_t vocab = 256;
  int64_t dim = 128;
  int64_t max_length = 512;
  std::optional<NormKind> final_norm = NormKind::rms_norm;  // nullopt: none
  double norm_eps = 1e-5;
  bool tie_embeddings = true;
  int64_t loss_chunk_rows = 2048;
  int64_t ignore_index = -100;
  double embedding_init_std = 0.02;
};

// The decoding state of a batch of sequences: one cache per block, in block order.
struct LanguageModelCache {
  std::vector<std::unique_ptr<DecodeCache>> blocks;
  int64_t batch = 0;
  int64_t max_length = 0;
  int64_t position = 0;  // tokens consumed so far
};

class LanguageModel : public Module {
 public:
  // `blocks`: causal, each of width options.dim.
  LanguageModel(const LanguageModelOptions& options, std::vector<std::shared_ptr<SequenceBlock>> blocks);

  // ids [b, n] (i32/i64) -> h [b, n, d], after the final norm.
  Tensor hidden(const Tensor& ids, const SequenceInfo& info = {});
  // ids [b, n] -> logits [b, n, V]. Holds all the logits: for inspection and sampling; train with loss().
  Tensor logits(const Tensor& ids, const SequenceInfo& info = {});
  // The registry's single-input hook: logits(ids), through which every parameter (an untied head's
  // too) takes part.
  Tensor forward(const Tensor& ids) override { return logits(ids); }
  // ids [b, n], targets [b, n] (i32/i64; ignore_index where nothing is predicted) -> scalar mean
  // cross-entropy over the counted positions, f32 (f64 for an f64 model). Positions past
  // info.key_lengths are not counted.
  Tensor loss(const Tensor& ids, const Tensor& targets, const SequenceInfo& info = {});

  // A fresh cache for `batch` sequences of at most max_length tokens (<= the model's max_length).
  LanguageModelCache start_decoding(int64_t batch, int64_t max_length) const;
  // ids [b, m], the tokens at positions cache.position .. + m - 1 -> logits [b, m, V]; advances
  // the cache by m. Grad-free.
  Tensor decode_logits(const Tensor& ids, LanguageModelCache& cache);

  // The output projection [V, d]: the embedding table when tied.
  const Tensor& output_weight() const;
  const LanguageModelOptions& options() const { return options_; }
  const Embedding& embedding() const { return *embed_; }
  const BlockList& blocks() const { return *blocks_; }
  // A header line and the parameters per module (embedding, each block, norm, head), with the
  // total: what the model prints when it is built.
  std::string summary() const;

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const LanguageModel& m, uint64_t seed);  // ids i64 [2, 5]

 private:
  // x [b, m, d] -> logits [b, m, V]
  Tensor project(const Tensor& h) const;

  LanguageModelOptions options_;
  std::shared_ptr<Embedding> embed_;
  std::shared_ptr<BlockList> blocks_;
  std::shared_ptr<Module> norm_;  // null for final_norm none
  std::shared_ptr<Linear> head_;  // null when tied
};

// Reads the keys LanguageModel and MaskedLm share: vocab, dim, max_length, final_norm, norm_eps,
// loss_chunk_rows, ignore_index, embedding_init_std (tie_embeddings is the language model's).
LanguageModelOptions read_model_options(ConfigReader& r);

// Token ids i64 [b, n], each in [0, vocab), from a counter-based stream.
Tensor example_token_ids(int64_t b, int64_t n, int64_t vocab, Device device, uint64_t seed);

}  // namespace gau::layers
