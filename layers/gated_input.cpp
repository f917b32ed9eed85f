#include "layers/gated_input.h"

#include <algorithm>
#include <string>
#include <utility>

#include "autograd/functions.h"

namespace gau::layers {

GatedInput::GatedInput(Module& owner, const GatedInputOptions& options) : opt_(options) {
  GAU_CHECK(opt_.dim > 0 && opt_.e > 0 && opt_.s > 0, owner.where(), ": dim, e and s must be > 0, got dim ", opt_.dim,
            ", e ", opt_.e, ", s ", opt_.s);
  GAU_CHECK(!opt_.rope || opt_.s % 2 == 0, owner.where(), ": RoPE rotates pairs of features, so s must be even, got s ",
            opt_.s);
  norm_ = owner.register_module("norm", make_norm(opt_.norm, opt_.dim, opt_.norm_eps));
  std::vector<std::pair<std::string, int64_t>> sections = {{"u", opt_.e}, {"v", opt_.e}, {"z", opt_.s}};
  w_in_ = owner.register_module("w_in", std::make_shared<FusedLinear>(opt_.dim, std::move(sections)));
  heads_ = owner.register_module("heads", std::make_shared<ScaleOffset>(opt_.s, opt_.heads));
  if (opt_.rope)
    rope_ =
        owner.register_module("rope", std::make_shared<RotaryEmbedding>(opt_.s, std::max<int64_t>(opt_.max_length, 1)));
}

GatedInput::Out GatedInput::forward(const Module& owner, const Tensor& x, int64_t offset) {
  GAU_CHECK(x.dim() == 3 && x.size(2) == opt_.dim, owner.where(), ": expected x [b, n, ", opt_.dim, "], got ",
            describe(x));
  NamedViews p = w_in_->forward_views(norm_->forward(x), ops::Activation::silu);  // silu(u), silu(v), silu(z)
  Out out{p["u"], p["v"], heads_->forward_heads(p["z"])};
  if (rope_)
    for (Tensor& h : out.heads) h = rope_->apply(h, offset);
  return out;
}

Tensor gated_output(Linear& w_out, const Tensor& x, const Tensor& u, const Tensor& a, double p, bool drop,
                    uint64_t seed, uint64_t offset) {
  Tensor o = w_out.forward(gau::mul(u, a));
  if (drop && p > 0) o = gau::dropout(o, p, seed, offset);
  return gau::add(x, o);
}

}  // namespace gau::layers
