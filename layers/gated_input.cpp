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
  GAU_CHECK(!opt_.rope || opt_.max_length > 0, owner.where(),
            ": position rope needs max_length (the length of its sin/cos table)");
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

void read_gated_block_options(ConfigReader& r, GatedBlockOptions& o) {
  r.explain({{"dim", "width of the block's input and output (a model sets it)"},
             {"e", "width of u and v, the gated expansion"},
             {"s", "width of the shared z that the queries and keys scale and offset"},
             {"norm", "the pre-norm of the block's input"},
             {"norm_eps", "epsilon of the pre-norm"},
             {"position", "rope on the queries and keys, a learned relative bias (relative_kind), or none"},
             {"max_length", "longest sequence (a model sets it); with scale inv_n it is the n divided by; 0: none"},
             {"causal", "each token attends only to itself and earlier ones (a language model sets it)"},
             {"dropout", "dropout on the block's output before the residual"},
             {"checkpoint", "recompute the block in backward, keeping only its input"}});
  o.dim = r.integer("dim", Range::at_least(1));
  r.document("e", "integer >= 1", "2 dim");
  o.e = r.integer("e", 2 * o.dim, Range::at_least(1));
  o.s = r.integer("s", 128, Range::at_least(1));
  o.norm = norm_kind_from_name(r.choice("norm", {"scale_norm", "rms_norm", "layer_norm"}, "scale_norm"));
  o.norm_eps = r.number("norm_eps", 1e-5, Range::greater_than(0));
  o.position = position_type_from_name(r.choice("position", {"rope", "relative", "none"}, "rope"));
  o.max_length = r.integer("max_length", 0, Range::at_least(0));
  o.causal = r.boolean("causal", false);
  o.dropout = r.number("dropout", 0.0, Range::between(0, 0.999));
  o.checkpoint = r.boolean("checkpoint", false);
}

void check_gated_rope(ConfigReader& r, const GatedBlockOptions& o) {
  if (o.position == PositionType::rope && o.s % 2 != 0)
    r.fail("s", "RoPE rotates pairs of features, so s must be even, got " + std::to_string(o.s));
  if (o.position == PositionType::rope && o.max_length == 0)
    r.fail("max_length", "position rope needs max_length (the length of its sin/cos table)");
}

GatedInputOptions gated_input_options(const GatedBlockOptions& o, int64_t heads) {
  GatedInputOptions g;
  g.dim = o.dim;
  g.e = o.e > 0 ? o.e : 2 * o.dim;
  g.s = o.s;
  g.heads = heads;
  g.norm = o.norm;
  g.norm_eps = o.norm_eps;
  g.rope = o.position == PositionType::rope;
  g.max_length = o.max_length;
  return g;
}

Tensor gated_output(Linear& w_out, const Tensor& x, const Tensor& u, const Tensor& a, double p, bool drop,
                    uint64_t seed, uint64_t offset) {
  Tensor o = w_out.forward(gau::mul(u, a));
  if (drop && p > 0) o = gau::dropout(o, p, seed, offset);
  return gau::add(x, o);
}

}  // namespace gau::layers
