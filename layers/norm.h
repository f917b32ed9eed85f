#pragma once
// Normalisation layers over the last dim, x [..., d] -> [..., d], and the factory the blocks use
// to build their pre-norm from a config name.
//
//   LayerNorm (Ba et al. 2016):  y = (x - mean(x)) / sqrt(var(x) + eps) ⊙ w + b    w [d] = 1, b [d] = 0
//     PyTorch: F.layer_norm(x, (d,), w, b, eps)                 (var is the biased, 1/d, variance)
//   RMSNorm (Zhang & Sennrich 2019):  y = x / sqrt(mean(x²) + eps) ⊙ w              w [d] = 1
//     PyTorch: F.rms_norm(x, (d,), w, eps)
//   ScaleNorm (Nguyen & Salazar 2019):  y = g · x / max(||x||₂, eps)                g [1] = sqrt(d)
//     PyTorch: g * x / x.norm(dim=-1, keepdim=True).clamp(min=eps)
//     (GAU's paper default; g = sqrt(d) makes y start with unit RMS like the other two)
//
// Configs: {type: layer_norm, dim: 512, eps: 1e-5}, {type: rms_norm, dim: 512}, {type: scale_norm, dim: 512}
#include <cstdint>
#include <memory>
#include <string>

#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

enum class NormKind { layer_norm, rms_norm, scale_norm };

// "layer_norm" | "rms_norm" | "scale_norm"; anything else is an error listing the choices.
NormKind norm_kind_from_name(const std::string& name);
const char* norm_kind_name(NormKind kind);
// A norm module over the last dim d: forward(x [..., d]) -> [..., d].
std::shared_ptr<Module> make_norm(NormKind kind, int64_t dim, double eps = 1e-5);

// What the three share: the width, eps and the input check.
class NormBase : public Module {
 public:
  NormBase(const char* type_name, int64_t dim, double eps);
  int64_t dim() const { return dim_; }
  double eps() const { return eps_; }

  static const char* example_config();
  static Tensor example_input(const NormBase& m, uint64_t seed);  // [2, 3, d]

 protected:
  // x [..., d] with the dtype and device of `param`, else an error naming the layer.
  void check_input(const Tensor& x, const Tensor& param) const;
  int64_t dim_;
  double eps_;
};

class LayerNorm : public NormBase {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;         // x [..., d] -> [..., d]
  const Tensor& weight() const { return weight_; }  // [d]
  const Tensor& bias() const { return bias_; }      // [d]
  static std::shared_ptr<Module> from_config(ConfigReader& r);

 private:
  Tensor weight_, bias_;
};

class RMSNorm : public NormBase {
 public:
  explicit RMSNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;         // x [..., d] -> [..., d]
  const Tensor& weight() const { return weight_; }  // [d]
  static std::shared_ptr<Module> from_config(ConfigReader& r);

 private:
  Tensor weight_;
};

class ScaleNorm : public NormBase {
 public:
  explicit ScaleNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;  // x [..., d] -> [..., d]
  const Tensor& g() const { return g_; }     // [1]
  static std::shared_ptr<Module> from_config(ConfigReader& r);

 private:
  Tensor g_;
};

}  // namespace gau::layers
