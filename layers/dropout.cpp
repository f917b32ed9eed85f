#include "layers/dropout.h"

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "layers/registry.h"

namespace gau::layers {

Dropout::Dropout(double p, Generator* gen) : Module("Dropout"), p_(p), gen_(gen ? gen : &default_generator()) {
  GAU_CHECK(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got ", p);
}

Tensor Dropout::forward(const Tensor& x) {
  GAU_CHECK(x.defined() && is_floating(x.dtype()), where(), ": expected a floating tensor, got ",
            x.defined() ? describe(x) : std::string("an undefined tensor"));
  if (!is_training() || p_ == 0) return x;
  if (p_ == 1) return gau::mul(x, 0.0);
  // Interim: the mask is drawn as its own tensor (uniforms in f32, compared with p, scaled) and
  // applied with one differentiable mul, until the fused Philox dropout op of the norms branch
  // is merged.
  Tensor mask;
  {
    NoGradGuard no_grad;
    const Tensor u = ops::rand(x.shape(), DType::f32, x.device(), 0, 1, gen_);
    const Tensor keep = ops::to_dtype(ops::compare_scalar(ops::Compare::ge, u, p_), x.dtype());
    mask = ops::mul(keep, 1.0 / (1.0 - p_));
  }
  return gau::mul(x, mask);
}

std::shared_ptr<Module> Dropout::from_config(ConfigReader& r) {
  return std::make_shared<Dropout>(r.number("p", 0.1, Range::between(0, 1)));
}

// p = 0: the registry test compares two forwards in training mode, which a random mask would
// make differ; the mask itself is tested in tests/layers/dropout_test.cpp.
const char* Dropout::example_config() { return "{p: 0.0}"; }

Tensor Dropout::example_input(const Dropout&, uint64_t seed) {
  Generator gen(seed);
  return ops::randn({2, 3, 4}, DType::f32, Device::cpu(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("dropout", Dropout);

}  // namespace gau::layers
