#include "layers/fused_linear.h"

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"

namespace gau::layers {

const Tensor& NamedViews::operator[](const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return views[i];
  GAU_FAIL("NamedViews: no view named '", name, "'; the views are: ", comma_list(names));
}

FusedLinear::FusedLinear(int64_t in, std::vector<std::pair<std::string, int64_t>> outputs, const LinearOptions& options)
    : Module("FusedLinear"), in_(in), outputs_(std::move(outputs)) {
  GAU_CHECK(in > 0 && !outputs_.empty(), "FusedLinear: needs in > 0 and at least one output, got in ", in, " and ",
            outputs_.size(), " outputs");
  for (size_t i = 0; i < outputs_.size(); ++i) {
    GAU_CHECK(outputs_[i].second > 0, "FusedLinear: output '", outputs_[i].first, "' must have a width > 0, got ",
              outputs_[i].second);
    for (size_t j = 0; j < i; ++j)
      GAU_CHECK(outputs_[j].first != outputs_[i].first, "FusedLinear: output '", outputs_[i].first, "' is named twice");
    total_ += outputs_[i].second;
  }
  weight_ = register_parameter("weight", ops::empty({total_, in}));
  init_linear_weight(weight_, options.init, options.init_std, options.gen);
  if (options.bias) bias_ = register_parameter("bias", ops::zeros({total_}));
}

Tensor FusedLinear::forward(const Tensor& x) {
  check_linear_input(*this, x, in_, weight_);
  ops::MatmulOptions opt;
  opt.trans_b = true;
  Tensor y = gau::matmul(x, weight_, opt);  // [..., sum]
  return bias_.defined() ? gau::bias_act(y, bias_, ops::Activation::none) : y;
}

NamedViews FusedLinear::forward_views(const Tensor& x) { return forward_views(x, ops::Activation::none); }

NamedViews FusedLinear::forward_views(const Tensor& x, ops::Activation act) {
  check_linear_input(*this, x, in_, weight_);
  ops::MatmulOptions opt;
  opt.trans_b = true;
  Tensor y = gau::matmul(x, weight_, opt);  // [..., sum]
  if (bias_.defined()) {
    y = gau::bias_act(y, bias_, act);
  } else if (act != ops::Activation::none) {
    y = gau::bias_act(y, ops::zeros({total_}, y.dtype(), y.device()), act);
  }
  NamedViews out;
  std::vector<int64_t> widths;
  for (const auto& [name, width] : outputs_) {
    out.names.push_back(name);
    widths.push_back(width);
  }
  out.views = gau::split(y, widths, -1);
  return out;
}

std::shared_ptr<Module> FusedLinear::from_config(ConfigReader& r) {
  r.explain({{"in", "width of the input"},
             {"outputs", "the named outputs and their widths, computed by one GEMM: {q: 64, k: 64}"}});
  const int64_t in = r.integer("in", Range::at_least(1));
  auto outputs = r.named_integers("outputs", Range::at_least(1));
  return std::make_shared<FusedLinear>(in, std::move(outputs), read_linear_options(r));
}

const char* FusedLinear::example_config() { return "{in: 6, outputs: {u: 4, v: 4, z: 3}}"; }

Tensor FusedLinear::example_input(const FusedLinear& m, uint64_t seed) {
  Generator gen(seed);
  return ops::randn({2, 3, m.in_features()}, m.weight().dtype(), m.weight().device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("fused_linear", FusedLinear);

}  // namespace gau::layers
