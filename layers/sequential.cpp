#include "layers/sequential.h"

#include <string>

#include "layers/registry.h"

namespace gau::layers {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> layers) : Module("Sequential"), layers_(std::move(layers)) {
  GAU_CHECK(!layers_.empty(), "Sequential: needs at least one layer");
  for (size_t i = 0; i < layers_.size(); ++i) register_module(std::to_string(i), layers_[i]);
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

std::shared_ptr<Module> Sequential::from_config(ConfigReader& r) {
  r.explain({{"layers", "layer configs, run in order, each output the next one's input"}});
  return std::make_shared<Sequential>(r.modules("layers"));
}

const char* Sequential::example_config() {
  return "{layers: [{type: embedding, vocab: 9, dim: 6}, {type: linear, in: 6, out: 4}]}";
}

Tensor Sequential::example_input(const Sequential& m, uint64_t seed) {
  const Module& first = *m.layers().front();
  const YAML::Node& config = first.config();
  GAU_CHECK(config["type"], m.where(), ": the example input needs its first layer built from a config");
  const LayerType* type = Registry::global().find(config["type"].as<std::string>());
  GAU_CHECK(type != nullptr, m.where(), ": the first layer's type is not registered");
  return type->example_input(first, seed);
}

GAU_REGISTER_LAYER("sequential", Sequential);

}  // namespace gau::layers
