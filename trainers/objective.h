#pragma once
// What a model is trained to do with a batch: the loss the trainer minimises and evaluates.
//
//   language_model  next-token cross-entropy over the batch's targets (the loader's shifted ids)
//   masked_lm       BERT masking of the batch's ids (drawn from the trainer's generator), then
//                   cross-entropy over the masked positions; the loader's targets are unused
//
// Either loss is a mean over its counted targets, reported with their count so that gradient
// accumulation and evaluation can weigh batches by tokens (optim/accumulation.h).
#include <cstdint>

#include "core/rng.h"
#include "layers/module.h"
#include "trainers/data/loader.h"

namespace gau::layers {
class LanguageModel;
class MaskedLm;
}  // namespace gau::layers

namespace gau::trainers {

struct BatchLoss {
  Tensor loss;          // [] f32, the mean over `targets` counted positions (0 when none)
  int64_t targets = 0;  // positions counted
};

class Objective {
 public:
  // The objective of `model`: a LanguageModel or a MaskedLm; anything else is an error naming
  // its type.
  explicit Objective(layers::Module& model);
  // `batch` as the loader made it (on the CPU); its tensors are moved to the model's `device`.
  // `gen` draws the MLM masks (unused by a language model).
  BatchLoss loss(const data::Batch& batch, Device device, Generator& gen) const;
  // Targets the batch will count, before any forward: what token-weighted accumulation needs.
  // For a masked LM it is only known after masking, so it is the batch's valid tokens there.
  int64_t expected_targets(const data::Batch& batch) const;
  // The model as a language model, or nullptr (a masked LM cannot generate).
  layers::LanguageModel* language_model() const { return lm_; }
  // A language model's targets are the loader's next tokens, counted before any forward; a
  // masked LM's are drawn by masking, so its loader keeps 1-token windows and its batches weigh
  // equally in accumulation.
  bool predicts_next_token() const { return lm_ != nullptr; }

 private:
  layers::LanguageModel* lm_ = nullptr;
  layers::MaskedLm* mlm_ = nullptr;
};

}  // namespace gau::trainers
