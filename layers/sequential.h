#pragma once
// Sequential: layers applied one after another through their single-input forward.
//
//   x -> layers[0] -> layers[1] -> ... -> y
//
// Config: {type: sequential, layers: [{type: embedding, vocab: 100, dim: 16}, {type: linear, in: 16, out: 4}]}
// The children are named 0, 1, ... (state dict keys "0.weight", "1.bias"); built from a config,
// they sit at the paths <path>.layers[i].
#include <memory>
#include <vector>

#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

class Sequential : public Module {
 public:
  explicit Sequential(std::vector<std::shared_ptr<Module>> layers);

  Tensor forward(const Tensor& x) override;
  const std::vector<std::shared_ptr<Module>>& layers() const { return layers_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  // The first layer's example input (it must have been built by the registry).
  static Tensor example_input(const Sequential& m, uint64_t seed);

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace gau::layers
