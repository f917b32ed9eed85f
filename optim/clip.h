#pragma once
// Gradient clipping over the flat gradient buffers (layers/flat_parameters.h).
//
// By global norm, over every group's gradient buffer g (the gaps between parameters are zero,
// so they add nothing):
//   norm = sqrt(Σ_groups Σ_i g_i²)
//   if norm > max_norm:  g *= max_norm / norm   (in place; afterwards the norm is max_norm)
//   torch: torch.nn.utils.clip_grad_norm_(params, max_norm), without its + 1e-6 in the divisor,
//          so a norm above max_norm lands exactly on it and one at or below it is left alone.
// The norm before clipping is returned: the trainer reports it as a metric. A non-finite norm
// (an overflowed fp16 step that the loss scaler did not catch first) scales nothing: scaling by
// max_norm / inf would zero the gradients and by max_norm / nan poison them, and the step should
// be skipped instead.
//
// Each group costs one reduction pass, then one scaling pass only when clipping. Sums of squares
// accumulate in f64 on CPU over fixed chunks; on CUDA each thread accumulates in f32 (f64 for an
// f64 buffer) over a grid that depends only on the buffer's size, and the per-block sums are
// added in f64 by one block: both are deterministic, run to run and whatever the thread count.
//
// By value: every element clamped to [-max_value, max_value] in place (NaN stays NaN).
//   torch: torch.nn.utils.clip_grad_value_(params, max_value)
//
// Config (the trainer's clip section), each optional:
//   {max_norm: 1.0, max_value: 5.0}   max_norm > 0, max_value > 0; value clipping runs first
#include <functional>
#include <optional>
#include <vector>

#include "core/tensor.h"
#include "layers/config_reader.h"
#include "layers/flat_parameters.h"

namespace gau::optim {

// grads [n] contiguous, floating, any device -> f64 [1] on its device holding Σ g_i². Queued on
// the current stream without waiting for it.
Tensor sum_squares(const Tensor& grads);

// The global norm of all gradient buffers, without changing them.
double grad_norm(const layers::FlatParameters& flat);
// Clips by global norm as above and returns the norm before clipping.
double clip_grad_norm(const layers::FlatParameters& flat, double max_norm);
// Clamps every gradient element to [-max_value, max_value].
void clip_grad_value(const layers::FlatParameters& flat, double max_value);

struct ClipOptions {
  std::optional<double> max_norm;
  std::optional<double> max_value;
};
ClipOptions read_clip_options(layers::ConfigReader& r);

// Applies `options` (value, then norm) and returns the global norm the norm clip saw, or the
// norm after value clipping when there is no norm clip: always the metric to report.
double clip_gradients(const layers::FlatParameters& flat, const ClipOptions& options);
// The same over `grads` (ZeRO-1: this rank's shards of the gradient buffers), where
// `sum_over_ranks` turns this rank's Σ g² into the sum over every rank's, so the norm is global
// and every rank scales alike.
double clip_gradients(const std::vector<Tensor>& grads, const ClipOptions& options,
                      const std::function<double(double)>& sum_over_ranks);

}  // namespace gau::optim
