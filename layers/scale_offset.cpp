#include "layers/scale_offset.h"

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/init.h"
#include "layers/registry.h"

namespace gau::layers {

ScaleOffset::ScaleOffset(int64_t dim, int64_t heads, Generator* gen) : Module("ScaleOffset"), dim_(dim), heads_(heads) {
  GAU_CHECK(dim > 0 && heads > 0, "ScaleOffset: dim and heads must be > 0, got dim ", dim, ", heads ", heads);
  gamma_ = register_parameter("gamma", ops::empty({heads, dim}));
  beta_ = register_parameter("beta", ops::empty({heads, dim}));
  init::gau_gamma_(gamma_, gen ? *gen : default_generator());
  init::gau_beta_(beta_);
}

std::vector<Tensor> ScaleOffset::forward_heads(const Tensor& z) {
  GAU_CHECK(z.defined() && z.dim() >= 1 && z.size(-1) == dim_, where(), ": expected z [..., ", dim_, "], got ",
            z.defined() ? describe(z) : std::string("an undefined tensor"));
  GAU_CHECK(z.dtype() == gamma_.dtype() && z.device() == gamma_.device(), where(), ": z ", describe(z),
            " does not match gamma ", describe(gamma_), " in dtype and device");
  std::vector<Tensor> out;
  out.reserve(static_cast<size_t>(heads_));
  for (int64_t i = 0; i < heads_; ++i)
    out.push_back(gau::scale_offset(z, gau::select(gamma_, 0, i), gau::select(beta_, 0, i)));
  return out;
}

Tensor ScaleOffset::forward(const Tensor& z) { return gau::stack(forward_heads(z), 0); }

std::shared_ptr<Module> ScaleOffset::from_config(ConfigReader& r) {
  r.explain({{"dim", "width of z"}, {"heads", "scale-offsets of z, each a gamma and a beta of width dim"}});
  const int64_t dim = r.integer("dim", Range::at_least(1));
  const int64_t heads = r.integer("heads", 2, Range::at_least(1));
  return std::make_shared<ScaleOffset>(dim, heads);
}

const char* ScaleOffset::example_config() { return "{dim: 4, heads: 2}"; }

Tensor ScaleOffset::example_input(const ScaleOffset& m, uint64_t seed) {
  Generator gen(seed);
  return ops::randn({2, 3, m.dim()}, m.gamma().dtype(), m.gamma().device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("scale_offset", ScaleOffset);

}  // namespace gau::layers
