#pragma once
// Embedding: a table of vocab rows of width dim, looked up by token id.
//
//   ids [...] (i32/i64) -> [..., dim];  weight [vocab, dim]
//   PyTorch: torch.nn.functional.embedding(ids, weight)
//
// Tying the output projection to the embedding (a language model's logits = h Wᵀ): use the same
// parameter through attend(h), or hand weight() to another layer, which registers the same tensor
// (Module lists a tied tensor once among the parameters).
//
// Config: {type: embedding, vocab: 32000, dim: 512, init_std: 0.02}
//   the weight starts N(0, init_std); 0.02 (GPT-2's choice) rather than PyTorch's N(0, 1), so
//   that a tied output projection starts with small logits.
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, double init_std = 0.02, Generator* gen = nullptr);

  // ids [...] (i32/i64, each in [0, vocab)) -> [..., dim]
  Tensor forward(const Tensor& ids) override;
  // h [..., dim] -> logits [..., vocab] = h Wᵀ, through the same weight (the tied output projection).
  Tensor attend(const Tensor& h) const;

  const Tensor& weight() const { return weight_; }  // [vocab, dim]
  int64_t vocab() const { return vocab_; }
  int64_t dim() const { return dim_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const Embedding& m, uint64_t seed);  // ids i64 [2, 5]

 private:
  int64_t vocab_, dim_;
  Tensor weight_;
};

}  // namespace gau::layers
