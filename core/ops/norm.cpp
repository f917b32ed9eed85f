#include "core/ops/norm.h"

#include "core/ops/backend.h"
#include "core/ops/copy.h"
#include "core/ops/norm_kernels.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"

namespace gau::ops {
namespace {

// The statistics' shape: x's without the last dim.
Shape row_shape(const Tensor& x) {
  Shape s = x.shape();
  s.pop_back();
  return s;
}

// x [..., d] with d >= 1; returns d.
int64_t check_input(const Tensor& x, double eps, const char* op) {
  GAU_CHECK(is_floating(x.dtype()), op, ": expected a floating x (f32, f64, bf16, f16), got ", describe(x));
  GAU_CHECK(x.dim() >= 1 && x.size(-1) >= 1, op, ": x must have a last dim of width d >= 1 to normalise over, got ",
            describe(x));
  GAU_CHECK(eps >= 0 && std::isfinite(eps), op, ": eps must be finite and >= 0, got ", eps);
  return x.size(-1);
}

// A per-dim parameter (weight or bias): undefined, or [d] with x's dtype and device.
void check_param(const Tensor& p, const Tensor& x, const char* name, const char* op) {
  if (!p.defined()) return;
  GAU_CHECK(p.dim() == 1 && p.size(0) == x.size(-1), op, ": ", name, " must be [d] = [", x.size(-1), "] for x ",
            describe(x), ", got ", describe(p));
  GAU_CHECK(p.dtype() == x.dtype() && p.device() == x.device(), op, ": ", name,
            " must have x's dtype and device, got x ", describe(x), " and ", name, " ", describe(p));
}

void check_scalar_g(const Tensor& g, const Tensor& x, const char* op) {
  GAU_CHECK(g.defined(), op, ": the scale g is required (a [] or [1] tensor, initialised to sqrt(d) in the paper)");
  GAU_CHECK(g.numel() == 1 && g.dim() <= 1, op, ": g must be a scalar ([] or [1]), got ", describe(g));
  GAU_CHECK(g.dtype() == x.dtype() && g.device() == x.device(), op, ": g must have x's dtype and device, got x ",
            describe(x), " and g ", describe(g));
}

// d_y like x; saved statistics [...] in acc dtype on x's device.
void check_norm_backward(const Tensor& d_y, const Tensor& x, const Tensor& stat, const char* name, const char* op) {
  GAU_CHECK(d_y.shape() == x.shape() && d_y.dtype() == x.dtype() && d_y.device() == x.device(), op,
            ": d_y must match x, got x ", describe(x), " and d_y ", describe(d_y));
  const DType acc = x.dtype() == DType::f64 ? DType::f64 : DType::f32;
  GAU_CHECK(stat.defined() && stat.shape() == row_shape(x) && stat.dtype() == acc && stat.device() == x.device(), op,
            ": ", name, " must be the forward's ", dtype_name(acc), shape_str(row_shape(x)), " on ", x.device().str(),
            ", got ", stat.defined() ? describe(stat) : std::string("undefined"));
}

// x as [rows, d], contiguous.
Tensor rows_of(const Tensor& x) { return reshape(contiguous(x), {x.numel() / x.size(-1), x.size(-1)}); }
Tensor maybe_contiguous(const Tensor& t) { return t.defined() ? contiguous(t) : t; }

NormOutput forward(NormKind kind, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  Tensor x2 = rows_of(x), w = maybe_contiguous(weight), b = maybe_contiguous(bias);
  NormOutput out;
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(out = cuda::norm_forward(kind, x2, w, b, eps));
  } else {
    out = cpu::norm_forward(kind, x2, w, b, eps);
  }
  out.y = reshape(out.y, x.shape());
  if (out.mean.defined()) out.mean = reshape(out.mean, row_shape(x));
  out.rstd = reshape(out.rstd, row_shape(x));
  return out;
}

NormGrads backward(NormKind kind, const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const Tensor& mean, const Tensor& rstd, double eps, bool param_grads) {
  Tensor dy2 = rows_of(d_y), x2 = rows_of(x), w = maybe_contiguous(weight);
  const int64_t rows = x2.size(0);
  Tensor m = mean.defined() ? reshape(contiguous(mean), {rows}) : mean, r = reshape(contiguous(rstd), {rows});
  NormGrads g;
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(g = cuda::norm_backward(kind, dy2, x2, w, m, r, eps, param_grads));
  } else {
    g = cpu::norm_backward(kind, dy2, x2, w, m, r, eps, param_grads);
  }
  g.d_x = reshape(g.d_x, x.shape());
  if (kind == NormKind::scale && param_grads)
    g.d_weight = reshape(to_dtype(sum(g.d_weight), weight.dtype()), weight.shape());
  if (!param_grads || !weight.defined()) g.d_weight = Tensor();
  if (!param_grads || !bias.defined()) g.d_bias = Tensor();
  return g;
}

}  // namespace

NormOutput layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_input(x, eps, "layer_norm");
  check_param(weight, x, "weight", "layer_norm");
  check_param(bias, x, "bias", "layer_norm");
  return forward(NormKind::layer, x, weight, bias, eps);
}

NormGrads layer_norm_backward(const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& rstd, bool param_grads) {
  const char* op = "layer_norm_backward";
  check_input(x, 0, op);
  check_param(weight, x, "weight", op);
  check_param(bias, x, "bias", op);
  check_norm_backward(d_y, x, mean, "mean", op);
  check_norm_backward(d_y, x, rstd, "rstd", op);
  return backward(NormKind::layer, d_y, x, weight, bias, mean, rstd, 0, param_grads);
}

NormOutput rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  check_input(x, eps, "rms_norm");
  check_param(weight, x, "weight", "rms_norm");
  return forward(NormKind::rms, x, weight, Tensor(), eps);
}

NormGrads rms_norm_backward(const Tensor& d_y, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                            bool param_grads) {
  const char* op = "rms_norm_backward";
  check_input(x, 0, op);
  check_param(weight, x, "weight", op);
  check_norm_backward(d_y, x, rstd, "rstd", op);
  return backward(NormKind::rms, d_y, x, weight, Tensor(), Tensor(), rstd, 0, param_grads);
}

NormOutput scale_norm(const Tensor& x, const Tensor& g, double eps) {
  check_input(x, eps, "scale_norm");
  GAU_CHECK(eps > 0, "scale_norm: eps must be > 0 (it bounds 1 / ||x||), got ", eps);
  check_scalar_g(g, x, "scale_norm");
  return forward(NormKind::scale, x, g, Tensor(), eps);
}

NormGrads scale_norm_backward(const Tensor& d_y, const Tensor& x, const Tensor& g, const Tensor& rstd, double eps,
                              bool param_grads) {
  const char* op = "scale_norm_backward";
  check_input(x, eps, op);
  GAU_CHECK(eps > 0, op, ": eps must be > 0 (the forward's), got ", eps);
  check_scalar_g(g, x, op);
  check_norm_backward(d_y, x, rstd, "rstd", op);
  return backward(NormKind::scale, d_y, x, g, Tensor(), Tensor(), rstd, eps, param_grads);
}

}  // namespace gau::ops
