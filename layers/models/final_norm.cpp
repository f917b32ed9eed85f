#include "layers/models/final_norm.h"

#include <cmath>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/linear.h"

namespace gau::layers {

const std::vector<std::string>& final_norm_names() {
  static const std::vector<std::string> names = {"rms_norm", "layer_norm", "scale_norm", "none"};
  return names;
}

FinalNormKind read_final_norm(ConfigReader& r, const std::string& key, const std::string& fallback) {
  const std::string s = r.choice(key, final_norm_names(), fallback);
  if (s == "layer_norm") return FinalNormKind::layer_norm;
  if (s == "rms_norm") return FinalNormKind::rms_norm;
  if (s == "scale_norm") return FinalNormKind::scale_norm;
  return FinalNormKind::none;
}

ComposedNorm::ComposedNorm(FinalNormKind kind, int64_t dim, double eps)
    : Module(kind == FinalNormKind::layer_norm ? "LayerNorm"
             : kind == FinalNormKind::rms_norm ? "RMSNorm"
                                               : "ScaleNorm"),
      kind_(kind),
      dim_(dim),
      eps_(eps) {
  GAU_CHECK(kind != FinalNormKind::none, "ComposedNorm: kind none has no module (make_final_norm returns null)");
  GAU_CHECK(dim > 0 && eps > 0, type_name(), ": dim and eps must be > 0, got dim ", dim, ", eps ", eps);
  if (kind == FinalNormKind::scale_norm) {
    scale_ = register_parameter("g", ops::full({1}, std::sqrt(static_cast<double>(dim))));
    return;
  }
  weight_ = register_parameter("weight", ops::ones({dim}));
  if (kind == FinalNormKind::layer_norm) bias_ = register_parameter("bias", ops::zeros({dim}));
}

Tensor ComposedNorm::forward(const Tensor& x) {
  const Tensor& p = kind_ == FinalNormKind::scale_norm ? scale_ : weight_;
  check_linear_input(*this, x, dim_, p);
  const int64_t last = x.dim() - 1;
  switch (kind_) {
    case FinalNormKind::layer_norm: {
      const Tensor centred = gau::sub(x, gau::mean(x, {last}, true));
      const Tensor inv = gau::rsqrt(gau::add(gau::mean(gau::mul(centred, centred), {last}, true), eps_));
      return gau::add(gau::mul(gau::mul(centred, inv), weight_), bias_);
    }
    case FinalNormKind::rms_norm: {
      const Tensor inv = gau::rsqrt(gau::add(gau::mean(gau::mul(x, x), {last}, true), eps_));
      return gau::mul(gau::mul(x, inv), weight_);
    }
    default: {
      const Tensor norm = gau::maximum(gau::sqrt(gau::sum(gau::mul(x, x), {last}, true)), eps_);
      return gau::mul(gau::div(x, norm), scale_);
    }
  }
}

std::shared_ptr<Module> make_final_norm(FinalNormKind kind, int64_t dim, double eps) {
  if (kind == FinalNormKind::none) return nullptr;
  return std::make_shared<ComposedNorm>(kind, dim, eps);
}

}  // namespace gau::layers
