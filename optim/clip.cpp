#include "optim/clip.h"

#include <cmath>
#include <vector>

#include "core/ops/backend.h"
#include "core/ops/elementwise.h"
#include "optim/clip_kernels.h"

namespace gau::optim {

namespace {

void check_grads(const char* op, const Tensor& grads) {
  GAU_CHECK(grads.defined(), op, ": a flat group has no gradient buffer");
  GAU_CHECK(is_floating(grads.dtype()), op, ": expected a floating gradient buffer, got ", describe(grads));
  GAU_CHECK(grads.dim() == 1 && grads.is_contiguous(), op, ": expected a contiguous [n] gradient buffer, got ",
            describe(grads));
}

}  // namespace

Tensor sum_squares(const Tensor& grads) {
  check_grads("sum_squares", grads);
  if (grads.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::sum_squares(grads));
  }
  return cpu::sum_squares(grads);
}

double grad_norm(const layers::FlatParameters& flat) {
  // Every group's reduction is queued before the first result is read: one wait per device.
  std::vector<Tensor> sums;
  for (const layers::FlatGroup& g : flat.groups()) sums.push_back(sum_squares(g.grads));
  double total = 0;
  for (const Tensor& s : sums) total += s.item();
  return std::sqrt(total);
}

double clip_grad_norm(const layers::FlatParameters& flat, double max_norm) {
  GAU_CHECK(max_norm > 0 && std::isfinite(max_norm), "clip_grad_norm: max_norm must be finite and > 0, got ", max_norm);
  const double norm = grad_norm(flat);
  if (std::isfinite(norm) && norm > max_norm) {
    for (const layers::FlatGroup& g : flat.groups()) ops::binary_scalar_(ops::Binary::mul, g.grads, max_norm / norm);
  }
  return norm;
}

void clip_grad_value(const layers::FlatParameters& flat, double max_value) {
  GAU_CHECK(max_value > 0 && std::isfinite(max_value), "clip_grad_value: max_value must be finite and > 0, got ",
            max_value);
  for (const layers::FlatGroup& g : flat.groups()) {
    check_grads("clip_grad_value", g.grads);
    if (g.grads.is_cuda()) {
      GAU_CUDA_ONLY(cuda::clamp_(g.grads, max_value));
    } else {
      cpu::clamp_(g.grads, max_value);
    }
    g.grads.bump_version();
  }
}

ClipOptions read_clip_options(layers::ConfigReader& r) {
  ClipOptions o;
  o.max_norm = r.number_if_given("max_norm", layers::Range::greater_than(0));
  o.max_value = r.number_if_given("max_value", layers::Range::greater_than(0));
  r.check_no_unknown_keys();
  return o;
}

double clip_gradients(const layers::FlatParameters& flat, const ClipOptions& options) {
  if (options.max_value) clip_grad_value(flat, *options.max_value);
  return options.max_norm ? clip_grad_norm(flat, *options.max_norm) : grad_norm(flat);
}

double clip_gradients(const std::vector<Tensor>& grads, const ClipOptions& options,
                      const std::function<double(double)>& sum_over_ranks) {
  if (options.max_value) {
    GAU_CHECK(*options.max_value > 0 && std::isfinite(*options.max_value),
              "clip_gradients: max_value must be finite and > 0, got ", *options.max_value);
    for (const Tensor& g : grads) {
      check_grads("clip_gradients", g);
      if (g.is_cuda()) {
        GAU_CUDA_ONLY(cuda::clamp_(g, *options.max_value));
      } else {
        cpu::clamp_(g, *options.max_value);
      }
      g.bump_version();
    }
  }
  std::vector<Tensor> sums;
  for (const Tensor& g : grads) sums.push_back(sum_squares(g));
  double local = 0;
  for (const Tensor& s : sums) local += s.item();
  const double norm = std::sqrt(sum_over_ranks(local));
  if (options.max_norm && std::isfinite(norm) && norm > *options.max_norm)
    for (const Tensor& g : grads) ops::binary_scalar_(ops::Binary::mul, g, *options.max_norm / norm);
  return norm;
}

}  // namespace gau::optim
