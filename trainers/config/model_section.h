#pragma once
// The model: section: a layer config ({type: language_model, vocab: 256, dim: 256, blocks: ...}),
// checked and filled in by the layer registry (layers/registry.h), which builds it. Its keys are
// the layer type's, documented in that type's header (layers/models/language_model.h).
#include <memory>

#include "layers/module.h"
#include "trainers/config/load.h"
#include "trainers/config/schema.h"

namespace gau::config {

const SectionSchema& model_section();

// The model `config` describes, built on the CPU, with errors at the config's positions.
std::shared_ptr<layers::Module> build_model(const LoadedConfig& config);

}  // namespace gau::config
