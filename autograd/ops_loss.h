#pragma once
// The language-model loss with the output projection folded in, computed in chunks of rows so
// that the [N, V] logits are never held at once (a 50k vocabulary at N = 16k tokens would be
// 3.2 GB of f32 logits, and as much again for their gradient).
//
//   loss = mean over rows r with targets[r] != ignore_index of  CE(h[r] wᵀ, targets[r])
//   torch: F.cross_entropy(h @ w.T, targets, ignore_index=..., label_smoothing=...)
//
// Forward keeps one log-sum-exp per row; backward recomputes each chunk's logits (one GEMM),
// turns them into d_logits (softmax minus target), and from them d_h = d_logits w and
// d_w += d_logitsᵀ h. Memory: O(chunk_rows × V) for the logits at any time, O(N) saved.
// When w's gradient lives in a preallocated buffer (a model's flat gradient buffer), every
// chunk's d_w is added straight into it (ctx.grad_sink).
#include "core/ops/loss.h"
#include "core/tensor.h"

namespace gau {

struct LinearCrossEntropyOptions {
  ops::CrossEntropyOptions ce;  // ignore_index, label_smoothing
  int64_t chunk_rows = 2048;    // rows of logits held at once; <= 0 means all rows in one chunk
};

// h [N, d] (the final hidden states), w [V, d] (the output projection, or the tied embedding
// table), targets [N] (i32/i64) -> scalar loss, f32 (f64 for f64 inputs). h and w share a dtype
// and device. Differentiable in h and w.
Tensor linear_cross_entropy(const Tensor& h, const Tensor& w, const Tensor& targets,
                            const LinearCrossEntropyOptions& opt = {});

}  // namespace gau
