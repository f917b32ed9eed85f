#include "layers/norm.h"

#include <cmath>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"

namespace gau::layers {

NormKind norm_kind_from_name(const std::string& name) {
  if (name == "layer_norm") return NormKind::layer_norm;
  if (name == "rms_norm") return NormKind::rms_norm;
  if (name == "scale_norm") return NormKind::scale_norm;
  GAU_FAIL("norm: unknown norm type '", name, "', expected one of layer_norm, rms_norm, scale_norm");
}

const char* norm_kind_name(NormKind kind) {
  switch (kind) {
    case NormKind::layer_norm:
      return "layer_norm";
    case NormKind::rms_norm:
      return "rms_norm";
    case NormKind::scale_norm:
      return "scale_norm";
  }
  return "unknown";
}

std::shared_ptr<Module> make_norm(NormKind kind, int64_t dim, double eps) {
  switch (kind) {
    case NormKind::layer_norm:
      return std::make_shared<LayerNorm>(dim, eps);
    case NormKind::rms_norm:
      return std::make_shared<RMSNorm>(dim, eps);
    case NormKind::scale_norm:
      return std::make_shared<ScaleNorm>(dim, eps);
  }
  GAU_FAIL("make_norm: unknown NormKind ", static_cast<int>(kind));
}

NormBase::NormBase(const char* type_name, int64_t dim, double eps) : Module(type_name), dim_(dim), eps_(eps) {
  GAU_CHECK(dim > 0 && eps > 0, type_name, ": dim and eps must be > 0, got dim ", dim, ", eps ", eps);
}

void NormBase::check_input(const Tensor& x, const Tensor& param) const {
  GAU_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == dim_, where(), ": expected an input [..., ", dim_, "], got ",
            x.defined() ? describe(x) : std::string("an undefined tensor"));
  GAU_CHECK(x.dtype() == param.dtype() && x.device() == param.device(), where(), ": the input ", describe(x),
            " does not match the parameter ", describe(param), " in dtype and device");
}

const char* NormBase::example_config() { return "{dim: 6}"; }

Tensor NormBase::example_input(const NormBase& m, uint64_t seed) {
  Generator gen(seed);
  const Tensor p = m.parameters().front();
  return ops::randn({2, 3, m.dim()}, p.dtype(), p.device(), 1, 2, &gen);
}

namespace {

// The keys every norm reads.
double read_dim_and_eps(ConfigReader& r, int64_t& dim) {
  r.explain({{"dim", "width of the normalised last dimension"},
             {"eps", "keeps the division finite: added to the variance or mean square; scale_norm: the least norm"}});
  dim = r.integer("dim", Range::at_least(1));
  return r.number("eps", 1e-5, Range::greater_than(0));
}

}  // namespace

// Each forward is one fused norm op (autograd/ops_norm.h): one pass over x saving per-row
// statistics, one fused backward.

LayerNorm::LayerNorm(int64_t dim, double eps) : NormBase("LayerNorm", dim, eps) {
  weight_ = register_parameter("weight", ops::ones({dim}));
  bias_ = register_parameter("bias", ops::zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) {
  check_input(x, weight_);
  return gau::layer_norm(x, weight_, bias_, eps_);
}

std::shared_ptr<Module> LayerNorm::from_config(ConfigReader& r) {
  int64_t dim = 0;
  const double eps = read_dim_and_eps(r, dim);
  return std::make_shared<LayerNorm>(dim, eps);
}

RMSNorm::RMSNorm(int64_t dim, double eps) : NormBase("RMSNorm", dim, eps) {
  weight_ = register_parameter("weight", ops::ones({dim}));
}

Tensor RMSNorm::forward(const Tensor& x) {
  check_input(x, weight_);
  return gau::rms_norm(x, weight_, eps_);
}

std::shared_ptr<Module> RMSNorm::from_config(ConfigReader& r) {
  int64_t dim = 0;
  const double eps = read_dim_and_eps(r, dim);
  return std::make_shared<RMSNorm>(dim, eps);
}

ScaleNorm::ScaleNorm(int64_t dim, double eps) : NormBase("ScaleNorm", dim, eps) {
  g_ = register_parameter("g", ops::full({1}, std::sqrt(static_cast<double>(dim))));
}

Tensor ScaleNorm::forward(const Tensor& x) {
  check_input(x, g_);
  return gau::scale_norm(x, g_, eps_);
}

std::shared_ptr<Module> ScaleNorm::from_config(ConfigReader& r) {
  int64_t dim = 0;
  const double eps = read_dim_and_eps(r, dim);
  return std::make_shared<ScaleNorm>(dim, eps);
}

GAU_REGISTER_LAYER("layer_norm", LayerNorm);
GAU_REGISTER_LAYER("rms_norm", RMSNorm);
GAU_REGISTER_LAYER("scale_norm", ScaleNorm);

}  // namespace gau::layers
