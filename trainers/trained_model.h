#pragma once
// A trained model back from its checkpoint, for `gau eval` and `gau generate`: the model its
// stored config describes, with the checkpoint's weights, on a device, and the data and
// tokenizer that config names.
//
//   TrainedModel m = load_trained_model("runs/default", Device::cpu());   // or a checkpoint dir
//   m.model, m.step, m.data_config, m.tokenizer
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/device.h"
#include "layers/module.h"
#include "trainers/data/data_config.h"
#include "trainers/data/tokenizer.h"

namespace gau::trainers {

struct TrainedModel {
  std::filesystem::path checkpoint;
  std::filesystem::path run_dir;  // the checkpoint's run: checkpoints/step_N/../..
  int64_t step = 0;
  YAML::Node config;  // the resolved config stored with the checkpoint
  std::shared_ptr<layers::Module> model;
  data::DataConfig data_config;
  std::shared_ptr<data::Tokenizer> tokenizer;  // null for token-file and synthetic data
};

// `run_or_checkpoint` as `gau eval` takes it (trainers/run_dir.h resolve_checkpoint).
// `overrides` ("data.path=...") change the stored config's data section; other sections' keys
// would not describe the stored weights, so only data.* is accepted.
TrainedModel load_trained_model(const std::filesystem::path& run_or_checkpoint, Device device,
                                const std::vector<std::string>& overrides = {});

}  // namespace gau::trainers
