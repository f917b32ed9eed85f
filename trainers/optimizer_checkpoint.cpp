#include "trainers/optimizer_checkpoint.h"

#include <yaml-cpp/yaml.h>

#include "core/error.h"

namespace gau::trainers {

using nlohmann::json;

json optimizer_meta(const optim::OptimizerState& state) {
  YAML::Emitter hyper;
  hyper << state.hyperparameters;
  json layout = json::array();
  for (const optim::GroupLayout& g : state.layout)
    layout.push_back({{"dtype", dtype_name(g.dtype)},
                      {"total", g.total},
                      {"names", g.names},
                      {"offsets", g.offsets},
                      {"numels", g.numels}});
  return {{"type", state.type},
          {"step", state.step},
          {"lr", state.lr},
          {"hyperparameters", hyper.c_str()},
          {"layout", layout}};
}

layers::StateDict optimizer_tensors(const optim::OptimizerState& state) {
  return layers::StateDict(state.tensors.begin(), state.tensors.end());
}

optim::OptimizerState optimizer_state_from(const json& meta, const layers::StateDict& tensors) {
  optim::OptimizerState state;
  try {
    state.type = meta.at("type").get<std::string>();
    state.step = meta.at("step").get<int64_t>();
    state.lr = meta.at("lr").get<double>();
    state.hyperparameters = YAML::Load(meta.at("hyperparameters").get<std::string>());
    for (const json& g : meta.at("layout")) {
      optim::GroupLayout layout;
      layout.dtype = dtype_from_name(g.at("dtype").get<std::string>());
      layout.total = g.at("total").get<int64_t>();
      layout.names = g.at("names").get<std::vector<std::string>>();
      layout.offsets = g.at("offsets").get<std::vector<int64_t>>();
      layout.numels = g.at("numels").get<std::vector<int64_t>>();
      state.layout.push_back(std::move(layout));
    }
  } catch (const json::exception& e) {
    GAU_FAIL("checkpoint state.json: the \"optimizer\" entry is damaged: ", e.what());
  }
  state.tensors.insert(tensors.begin(), tensors.end());
  return state;
}

}  // namespace gau::trainers
