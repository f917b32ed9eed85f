#include "layers/linear.h"

#include <cmath>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/init.h"
#include "layers/registry.h"

namespace gau::layers {

LinearInit parse_linear_init(ConfigReader& r) {
  const std::string s = r.choice("init", {"uniform", "xavier_uniform", "normal", "zeros"}, "uniform");
  if (s == "xavier_uniform") return LinearInit::xavier_uniform;
  if (s == "normal") return LinearInit::normal;
  if (s == "zeros") return LinearInit::zeros;
  return LinearInit::uniform;
}

void init_linear_weight(const Tensor& weight, LinearInit init, double init_std, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  switch (init) {
    case LinearInit::uniform: {
      const double a = 1.0 / std::sqrt(static_cast<double>(init::fan_in(weight)));
      init::uniform_(weight, -a, a, g);
      break;
    }
    case LinearInit::xavier_uniform:
      init::xavier_uniform_(weight, 1.0, g);
      break;
    case LinearInit::normal:
      init::normal_(weight, 0.0, init_std, g);
      break;
    case LinearInit::zeros:
      init::zeros_(weight);
      break;
  }
}

LinearOptions read_linear_options(ConfigReader& r) {
  r.explain({{"bias", "adds a learned bias, starting at zero"},
             {"init", "the weight's init: uniform ±1/sqrt(in) (PyTorch's), xavier_uniform, normal(init_std), zeros"},
             {"init_std", "the standard deviation of init: normal"}});
  LinearOptions o;
  o.bias = r.boolean("bias", true);
  o.init = parse_linear_init(r);
  o.init_std = r.number("init_std", 0.02, Range::greater_than(0));
  return o;
}

void check_linear_input(const Module& m, const Tensor& x, int64_t in, const Tensor& weight) {
  GAU_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == in, m.where(), ": expected an input [..., ", in, "], got ",
            x.defined() ? describe(x) : std::string("an undefined tensor"));
  GAU_CHECK(x.dtype() == weight.dtype() && x.device() == weight.device(), m.where(), ": the input ", describe(x),
            " does not match the weight ", describe(weight), " in dtype and device");
}

Linear::Linear(int64_t in, int64_t out, const LinearOptions& options) : Module("Linear"), in_(in), out_(out) {
  GAU_CHECK(in > 0 && out > 0, "Linear: in and out must be > 0, got in ", in, ", out ", out);
  weight_ = register_parameter("weight", ops::empty({out, in}));
  init_linear_weight(weight_, options.init, options.init_std, options.gen);
  if (options.bias) bias_ = register_parameter("bias", ops::zeros({out}));
}

Tensor Linear::forward(const Tensor& x) {
  check_linear_input(*this, x, in_, weight_);
  ops::MatmulOptions opt;
  opt.trans_b = true;
  Tensor y = gau::matmul(x, weight_, opt);  // [..., out]
  return bias_.defined() ? gau::bias_act(y, bias_, ops::Activation::none) : y;
}

std::shared_ptr<Module> Linear::from_config(ConfigReader& r) {
  r.explain({{"in", "width of the input"}, {"out", "width of the output"}});
  const int64_t in = r.integer("in", Range::at_least(1));
  const int64_t out = r.integer("out", Range::at_least(1));
  return std::make_shared<Linear>(in, out, read_linear_options(r));
}

const char* Linear::example_config() { return "{in: 6, out: 5, bias: true}"; }

Tensor Linear::example_input(const Linear& m, uint64_t seed) {
  Generator gen(seed);
  return ops::randn({2, 3, m.in_features()}, m.weight().dtype(), m.weight().device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("linear", Linear);

}  // namespace gau::layers
