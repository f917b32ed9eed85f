#pragma once
// The norm after a model's block stack (pre-norm blocks leave their last residual sum
// unnormalised), and in the masked LM's head:
//
//   layer_norm:  y = (x - mean(x)) / sqrt(var(x) + eps) ⊙ weight + bias     weight 1, bias 0
//   rms_norm:    y = x / sqrt(mean(x²) + eps) ⊙ weight                       weight 1
//   scale_norm:  y = g · x / max(||x||₂, eps)                                g [1] = √d
//   none:        no module
//
//   x [..., d] -> [..., d], over the last dimension
//
// The same formulas, parameter names and initial values as layers/norm.h's LayerNorm, RMSNorm and
// ScaleNorm on the blocks branch, composed of autograd ops (mean, rsqrt, mul) so that the models
// can be built before that branch is merged; its fused norms take this one's place then.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

enum class FinalNormKind { none, layer_norm, rms_norm, scale_norm };

// The config names, in the order error messages list them.
const std::vector<std::string>& final_norm_names();
// Reads `key` as one of final_norm_names() (default `fallback`).
FinalNormKind read_final_norm(ConfigReader& r, const std::string& key, const std::string& fallback);

class ComposedNorm : public Module {
 public:
  ComposedNorm(FinalNormKind kind, int64_t dim, double eps);

  // x [..., dim] -> [..., dim]
  Tensor forward(const Tensor& x) override;

  FinalNormKind kind() const { return kind_; }

 private:
  FinalNormKind kind_;
  int64_t dim_;
  double eps_;
  Tensor weight_, bias_, scale_;
};

// The norm of `kind`, or null for none.
std::shared_ptr<Module> make_final_norm(FinalNormKind kind, int64_t dim, double eps);

}  // namespace gau::layers
