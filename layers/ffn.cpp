#include "layers/ffn.h"

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"

namespace gau::layers {
namespace {

const char* kind_name(FfnKind kind) {
  switch (kind) {
    case FfnKind::mlp:
      return "MLP";
    case FfnKind::glu:
      return "GLU";
    case FfnKind::swiglu:
      return "SwiGLU";
  }
  return "FeedForward";
}

ops::Unary unary_of(ops::Activation act) {
  switch (act) {
    case ops::Activation::relu:
      return ops::Unary::relu;
    case ops::Activation::relu2:
      return ops::Unary::relu2;
    case ops::Activation::silu:
      return ops::Unary::silu;
    default:
      return ops::Unary::gelu;
  }
}

}  // namespace

int64_t default_ffn_hidden(FfnKind kind, int64_t dim) {
  if (kind == FfnKind::mlp) return 4 * dim;
  return (8 * dim + 23) / 24 * 8;  // ceil(8d/3) rounded up to a multiple of 8
}

FeedForward::FeedForward(const FfnOptions& options) : Module(kind_name(options.kind)), options_(options) {
  GAU_CHECK(options.dim > 0 && options.hidden >= 0, kind_name(options.kind),
            ": dim must be > 0 and hidden >= 0 (0 for the default), got dim ", options.dim, ", hidden ",
            options.hidden);
  GAU_CHECK(options.activation != ops::Activation::none, kind_name(options.kind), ": needs an activation");
  if (options_.hidden == 0) options_.hidden = default_ffn_hidden(options.kind, options.dim);
  const int64_t d = options_.dim, h = options_.hidden;
  if (options_.kind == FfnKind::mlp) {
    mlp_in_ = register_module("w_in", std::make_shared<Linear>(d, h, options_.linear));
    w_in_ = mlp_in_;
  } else {
    gated_in_ = register_module(
        "w_in", std::make_shared<FusedLinear>(d, std::vector<std::pair<std::string, int64_t>>{{"gate", h}, {"up", h}},
                                              options_.linear));
    w_in_ = gated_in_;
  }
  w_out_ = register_module("w_out", std::make_shared<Linear>(h, d, options_.linear));
}

Tensor FeedForward::forward(const Tensor& x) {
  Tensor hidden;  // [..., h]
  if (mlp_in_) {
    check_linear_input(*this, x, options_.dim, mlp_in_->weight());
    ops::MatmulOptions opt;
    opt.trans_b = true;
    const Tensor pre = gau::matmul(x, mlp_in_->weight(), opt);
    hidden = mlp_in_->bias().defined() ? gau::bias_act(pre, mlp_in_->bias(), options_.activation)
                                       : gau::unary(unary_of(options_.activation), pre);
  } else {
    check_linear_input(*this, x, options_.dim, gated_in_->weight());
    const NamedViews in = gated_in_->forward_views(x);
    const Tensor& a = in.views[0];  // gate
    const Tensor& g = in.views[1];  // up
    hidden = gau::mul(options_.kind == FfnKind::glu ? gau::sigmoid(a) : gau::silu(a), g);
  }
  return w_out_->forward(hidden);
}

FfnOptions FeedForward::read_options(ConfigReader& r, FfnKind kind) {
  FfnOptions o;
  o.kind = kind;
  r.explain({{"dim", "width of the input and output"},
             {"hidden", "hidden width"},
             {"activation", "the activation of the hidden layer"},
             {"bias", "biases on both projections"},
             {"init", "the projections' init (as for linear)"},
             {"init_std", "the standard deviation of init: normal"}});
  o.dim = r.integer("dim", Range::at_least(1));
  r.document("hidden", "integer >= 1",
             kind == FfnKind::mlp ? "4 dim" : "8 dim / 3 rounded up to a multiple of 8");
  o.hidden = r.integer("hidden", default_ffn_hidden(kind, o.dim), Range::at_least(1));
  if (kind == FfnKind::mlp) {
    const std::string act = r.choice("activation", {"relu", "relu2", "silu", "gelu"}, "gelu");
    o.activation = act == "relu"    ? ops::Activation::relu
                   : act == "relu2" ? ops::Activation::relu2
                   : act == "silu"  ? ops::Activation::silu
                                    : ops::Activation::gelu;
  }
  o.linear.bias = r.boolean("bias", kind == FfnKind::mlp);
  o.linear.init = parse_linear_init(r);
  o.linear.init_std = r.number("init_std", 0.02, Range::greater_than(0));
  return o;
}

const char* FeedForward::example_config() { return "{dim: 6, hidden: 8, bias: true}"; }

Tensor FeedForward::example_input(const FeedForward& m, uint64_t seed) {
  Generator gen(seed);
  const Tensor& w = m.w_out().weight();
  return ops::randn({2, 3, m.dim()}, w.dtype(), w.device(), 0, 1, &gen);
}

std::shared_ptr<Module> Mlp::from_config(ConfigReader& r) {
  return std::make_shared<Mlp>(read_options(r, FfnKind::mlp));
}
std::shared_ptr<Module> Glu::from_config(ConfigReader& r) {
  return std::make_shared<Glu>(read_options(r, FfnKind::glu));
}
std::shared_ptr<Module> SwiGlu::from_config(ConfigReader& r) {
  return std::make_shared<SwiGlu>(read_options(r, FfnKind::swiglu));
}

GAU_REGISTER_LAYER("mlp", Mlp);
GAU_REGISTER_LAYER("glu", Glu);
GAU_REGISTER_LAYER("swiglu", SwiGlu);

}  // namespace gau::layers
