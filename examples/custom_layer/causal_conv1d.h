#pragma once
// causal_conv1d: a differentiable causal depthwise 1-D convolution over the sequence dim.
//
//   x [b, n, c], w [k, c] -> y [b, n, c]
//   y[b,t,c] = sum_{j=0}^{k-1} w[j,c] * x[b,t-j,c]      (x[b,t-j,c] = 0 for t - j < 0)
//   PyTorch: F.conv1d(F.pad(x.transpose(1, 2), (k - 1, 0)), w.flip(0).t().unsqueeze(1), groups=c).transpose(1, 2)
//
// Output t sees inputs t - k + 1 .. t only, so a language model may use it (the gated_conv block,
// gated_conv.h). Backward (both by this op's own kernels):
//   dx[b,t,c] = sum_j w[j,c] * dy[b,t+j,c]        (dy[b,t+j,c] = 0 for t + j >= n)
//   dw[j,c]   = sum_{b,t} x[b,t-j,c] * dy[b,t,c]
//
// x and w must share one dtype and device: f32 or f64 on the CPU, f32 on CUDA (when this library
// was built with CUDA). Anything else is a gau::Error naming the op, what it expected and what it
// got. Strided inputs are fine: the op makes them contiguous first.
#include "core/tensor.h"

namespace gau_custom {

gau::Tensor causal_conv1d(const gau::Tensor& x, const gau::Tensor& w);

}  // namespace gau_custom
