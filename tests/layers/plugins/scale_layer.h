#pragma once
// The layer the test plugins register: y = x ⊙ w, w [dim] starting at ones. Header-only, so each
// plugin compiles its own copy and registers it under the name it is given.
#include <cstdint>
#include <memory>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::test_plugins {

class Scale : public layers::Module {
 public:
  explicit Scale(int64_t dim) : Module("Scale") { weight_ = register_parameter("weight", ops::ones({dim})); }
  Tensor forward(const Tensor& x) override { return gau::mul(x, weight_); }
  const Tensor& weight() const { return weight_; }

  static std::shared_ptr<layers::Module> from_config(layers::ConfigReader& r) {
    return std::make_shared<Scale>(r.integer("dim", layers::Range::at_least(1)));
  }
  static const char* example_config() { return "{dim: 3}"; }
  static Tensor example_input(const Scale& m, uint64_t seed) {
    Generator gen(seed);
    return ops::randn({2, m.weight().size(0)}, m.weight().dtype(), m.weight().device(), 0, 1, &gen);
  }

 private:
  Tensor weight_;
};

}  // namespace gau::test_plugins
