#pragma once
// Backend kernels of optim/clip.h, in gau::optim::cpu (optim/cpu/clip.cpp) and gau::optim::cuda
// (optim/cuda/clip.cu, built with CUDA only). optim/clip.cpp validates the arguments: grads [n]
// contiguous and floating.
#include "core/tensor.h"

namespace gau::optim::cpu {
// grads [n] -> f64 [1]: Σ g_i²
Tensor sum_squares(const Tensor& grads);
// grads [n] in place: g = min(max(g, -max_value), max_value)
void clamp_(const Tensor& grads, double max_value);
}  // namespace gau::optim::cpu

namespace gau::optim::cuda {
Tensor sum_squares(const Tensor& grads);
void clamp_(const Tensor& grads, double max_value);
}  // namespace gau::optim::cuda
