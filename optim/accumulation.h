#pragma once
// Gradient accumulation over micro-batches: k backward passes add into the flat gradient
// buffers (layers/flat_parameters.h), then one optimizer step, as if one batch of k·m rows had
// been run.
//
// The rule: each micro-batch's loss L_i is a mean over its own n_i counted tokens (the losses of
// layers/models are), and is multiplied by a weight w_i before its backward, so that the summed
// gradients are those of the mean over all N = Σ n_i tokens of the whole batch:
//
//   ∇ (1/N) Σ_tokens ℓ  =  Σ_i w_i ∇ L_i,   L_i = (1/n_i) Σ_{tokens of i} ℓ,   w_i = n_i / N
//
// When every micro-batch counts the same number of tokens (n_i = N / k: equal rows, no padding,
// no ignore_index) this is w_i = 1/k, scale(loss). When the counts differ (padding, ignored
// targets, a short last micro-batch), 1/k would weigh each token of a short micro-batch more
// than one of a long one: use the token-weighted scale(loss, n_i, N), with N counted over all k
// micro-batches before the first backward (their targets are at hand, or the loader counts them).
// A micro-batch with n_i = 0 contributes nothing: skip its backward (its mean is 0 / 0).
//
//   GradAccumulator acc(k);
//   for (each micro-batch i) {
//     scaler.scale(acc.scale(model.loss(ids_i, targets_i))).backward();   // scaler: fp16 only
//     if (acc.step()) { unscale, clip, optimizer.step(); flat.zero_grad(); }
//   }
//   torch: (loss / k).backward() per micro-batch, optimizer.step() every k.
#include <cstdint>

#include "core/tensor.h"

namespace gau::optim {

class GradAccumulator {
 public:
  // micro_batches = k >= 1 (1: no accumulation).
  explicit GradAccumulator(int64_t micro_batches);

  // loss [] -> loss / k, differentiable.
  Tensor scale(const Tensor& loss) const;
  // loss [] -> loss · tokens / total_tokens: the token-weighted rule, 0 <= tokens <= total_tokens.
  Tensor scale(const Tensor& loss, int64_t tokens, int64_t total_tokens) const;

  // Counts one micro-batch done (after its backward); true for the k-th, when the optimizer
  // steps, and the count starts again.
  bool step();
  // Micro-batches since the last optimizer step, in [0, k).
  int64_t index() const { return index_; }
  int64_t micro_batches() const { return micro_batches_; }

 private:
  int64_t micro_batches_;
  int64_t index_ = 0;
};

}  // namespace gau::optim
