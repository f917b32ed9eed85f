#include "trainers/trained_model.h"

#include "core/error.h"
#include "core/rng.h"
#include "layers/registry.h"
#include "optim/precision.h"
#include "trainers/checkpoint.h"
#include "trainers/config/overrides.h"
#include "trainers/config/plugins_section.h"
#include "trainers/config/sources.h"
#include "trainers/data/dataset.h"
#include "trainers/run_dir.h"

namespace gau::trainers {

namespace fs = std::filesystem;

TrainedModel load_trained_model(const fs::path& run_or_checkpoint, Device device,
                                const std::vector<std::string>& overrides) {
  TrainedModel out;
  out.checkpoint = resolve_checkpoint(run_or_checkpoint);
  out.run_dir = out.checkpoint.parent_path().parent_path();
  const Checkpoint c = read_checkpoint(out.checkpoint);
  out.step = c.state.step;
  try {
    out.config = YAML::Load(c.state.config_yaml);
  } catch (const YAML::Exception& e) {
    GAU_FAIL(out.checkpoint.string(), "/state.json: the stored config is not valid YAML: ", e.what());
  }
  GAU_CHECK(out.config.IsMap() && out.config["model"] && out.config["data"], out.checkpoint.string(),
            "/state.json: the stored config has no model or data section");
  config::Sources sources;
  sources.add(out.config, (out.checkpoint / "state.json").string(), false);
  for (const std::string& o : overrides) {
    GAU_CHECK(o.rfind("data.", 0) == 0, "--set ", o, ": only data.* keys can change for a trained model; the "
              "other sections describe the stored weights");
    config::apply_override(out.config, o, sources);
  }
  const auto origins = sources.origins_of(out.config);
  const layers::ConfigOriginsScope scope(origins);
  // A model of a plugin's layers needs the plugin that built it (stored with absolute paths).
  config::load_config_plugins(out.config, origins, (out.checkpoint / "state.json").string());
  out.model = layers::build(out.config["model"], "model");
  // The stored dtype: a bf16 run's weights load into a bf16 model.
  const std::string precision = out.config["precision"] && out.config["precision"]["dtype"]
                                    ? out.config["precision"]["dtype"].as<std::string>()
                                    : "fp32";
  const DType dtype = precision == "bf16" ? DType::bf16 : precision == "fp16" ? DType::f16 : DType::f32;
  out.model->to(device, dtype);
  out.model->load_state_dict(c.model);
  out.model->eval();
  out.data_config = data::read_data_config(out.config["data"], "", "data");
  if (out.data_config.source == "text")
    out.tokenizer = data::build_tokenizer(out.data_config.tokenizer, {}, out.run_dir.string());
  return out;
}

}  // namespace gau::trainers
