#include "trainers/objective.h"

#include "core/error.h"
#include "core/ops/copy.h"
#include "layers/models/language_model.h"
#include "layers/models/masked_lm.h"

namespace gau::trainers {

namespace {

// Targets that are not ignore_index, counted on the CPU.
int64_t count_targets(const Tensor& targets, int64_t ignore_index) {
  const Tensor t = ops::contiguous(ops::to_dtype(ops::to_device(targets, Device::cpu()), DType::i64));
  const int64_t* p = t.data<int64_t>();
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += p[i] != ignore_index;
  return n;
}

}  // namespace

Objective::Objective(layers::Module& model) {
  lm_ = dynamic_cast<layers::LanguageModel*>(&model);
  mlm_ = dynamic_cast<layers::MaskedLm*>(&model);
  GAU_CHECK(lm_ || mlm_, "the trainer trains a language_model or a masked_lm; the model's config has type '",
            model.config()["type"] ? model.config()["type"].as<std::string>() : std::string("?"), "'");
}

BatchLoss Objective::loss(const data::Batch& batch, Device device, Generator& gen) const {
  const Tensor ids = ops::to_device(batch.ids, device);
  layers::SequenceInfo info;
  if (batch.key_lengths.defined()) info.key_lengths = ops::to_device(batch.key_lengths, device);
  if (lm_) return {lm_->loss(ids, ops::to_device(batch.targets, device), info), batch.num_targets};
  const layers::MaskedTokens masked = mlm_->mask(ids, gen, info);
  return {mlm_->loss(masked.inputs, masked.targets, info),
          count_targets(masked.targets, mlm_->options().model.ignore_index)};
}

int64_t Objective::expected_targets(const data::Batch& batch) const {
  return lm_ ? batch.num_targets : batch.num_tokens;
}

}  // namespace gau::trainers
