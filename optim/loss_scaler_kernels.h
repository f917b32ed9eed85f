#pragma once
// Backend kernels of optim/loss_scaler.h, in gau::optim::cpu (optim/cpu/loss_scaler.cpp) and
// gau::optim::cuda (optim/cuda/loss_scaler.cu, built with CUDA only). optim/loss_scaler.cpp
// validates the arguments: grads [n] contiguous floating, found i32 [1] on the same device.
#include "core/tensor.h"

namespace gau::optim::cpu {
// grads [n] in place: g *= inv_scale; found[0] = 1 when any g is inf or nan.
void unscale_and_check_(const Tensor& grads, double inv_scale, const Tensor& found);
}  // namespace gau::optim::cpu

namespace gau::optim::cuda {
void unscale_and_check_(const Tensor& grads, double inv_scale, const Tensor& found);
}  // namespace gau::optim::cuda
