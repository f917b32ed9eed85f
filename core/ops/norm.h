#pragma once
// Normalisations over the last dim, grad-free forward and backward kernels (the differentiable
// wrappers are in autograd/ops_norm.h). x [..., d] is seen as rows = numel / d rows of width d;
// the forward saves per-row statistics ([...], f32, f64 for f64 x) that the backward consumes.
// Arithmetic is in acc_t<T> (f32 for bf16/f16 storage). weight and bias have x's dtype and device.
//
// LayerNorm (Ba et al. 2016), weight w [d] and bias b [d] each optional:
//   mean = sum_j x_j / d,  rstd = 1 / sqrt(sum_j (x_j - mean)^2 / d + eps),  xhat = (x - mean) rstd
//   y    = xhat w + b
//   g    = d_y w,  d_x = rstd (g - mean_j(g) - xhat mean_j(g xhat))
//   d_w  = sum_rows d_y xhat,  d_b = sum_rows d_y
// RMSNorm (Zhang & Sennrich 2019), weight w [d] optional:
//   rstd = 1 / sqrt(sum_j x_j^2 / d + eps),  xhat = x rstd,  y = xhat w
//   g    = d_y w,  d_x = rstd (g - xhat mean_j(g xhat)),  d_w = sum_rows d_y xhat
// ScaleNorm (Nguyen & Salazar 2019, "Transformers without Tears"), one learned scalar g ([] or [1]):
//   rstd = 1 / max(||x||_2, eps),  xhat = x rstd,  y = g xhat
//   unclamped (||x|| > eps): d_x = g rstd (d_y - xhat sum_j(d_y xhat))
//   clamped   (||x|| <= eps): d_x = g rstd d_y       (y = g x / eps is linear in x)
//   d_g  = sum_rows sum_j d_y xhat
//   The paper initialises g to sqrt(d). Backward takes a row as clamped when its saved rstd is
//   >= 1 / eps, so a norm within an ulp above eps (the kink itself) counts as clamped.
#include "core/tensor.h"

namespace gau::ops {

struct NormOutput {
  Tensor y;     // x's shape and dtype
  Tensor mean;  // [...] (x's shape without the last dim); layer_norm only
  Tensor rstd;  // [...]; for scale_norm 1 / max(||x||, eps)
};

// Gradients of a norm. d_weight (and d_bias) are undefined unless asked for and the parameter is
// defined; for scale_norm d_weight is d_g in g's shape.
struct NormGrads {
  Tensor d_x, d_weight, d_bias;
};

// x [..., d], weight [d] or undefined, bias [d] or undefined -> y [..., d]
//   torch: F.layer_norm(x, (d,), weight, bias, eps)
NormOutput layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
// d_y, x [..., d]; mean, rstd [...] from layer_norm. param_grads: also compute d_weight, d_bias.
NormGrads layer_norm_backward(const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& rstd, bool param_grads);

// x [..., d], weight [d] or undefined -> y [..., d]
//   torch: F.rms_norm(x, (d,), weight, eps)
NormOutput rms_norm(const Tensor& x, const Tensor& weight, double eps);
// d_y, x [..., d]; rstd [...] from rms_norm.
NormGrads rms_norm_backward(const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                            bool param_grads);

// x [..., d], g [] or [1] -> y [..., d]
//   torch: g * x / x.norm(dim=-1, keepdim=True).clamp(min=eps)
NormOutput scale_norm(const Tensor& x, const Tensor& g, double eps);
// d_y, x [..., d]; rstd [...] from scale_norm, eps as given to it.
NormGrads scale_norm_backward(const Tensor& d_y, const Tensor& x, const Tensor& g, const Tensor& rstd, double eps,
                              bool param_grads);

}  // namespace gau::ops
