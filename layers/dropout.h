#pragma once
// Dropout: in training, each element is zeroed with probability p and the kept ones scaled by
// 1 / (1 - p), so the expected output is the input; in eval it is the identity.
//
//   x [...] -> [...]:  y = x ⊙ m / (1 - p),  m_i ~ Bernoulli(1 - p)
//   PyTorch: torch.nn.functional.dropout(x, p, training)
//
// One fused op (gau::dropout, core/ops/dropout.h): the mask is a function of (seed, offset,
// element) drawn from a Philox generator (default_generator() unless one is given), so a seeded
// run drops the same elements on every device, and the backward regenerates the mask instead of
// storing it. Each call reserves fresh counters (Generator::advance), so no two calls share bits.
//
// Config: {type: dropout, p: 0.1}
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

class Dropout : public Module {
 public:
  explicit Dropout(double p, Generator* gen = nullptr);

  // x [...] -> [...]; x itself in eval mode or with p = 0.
  Tensor forward(const Tensor& x) override;

  double p() const { return p_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const Dropout& m, uint64_t seed);  // f32 [2, 3, 4]

 private:
  double p_;
  Generator* gen_;
};

}  // namespace gau::layers
