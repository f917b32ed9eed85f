#pragma once
// Generic recompute (docs/model.md, "Checkpointing"): trade compute for memory.
//
//   y = checkpoint([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{layer(in[0])}; }, {x})[0];
//
// The forward runs fn with recording off, so none of fn's intermediates are kept: the tape gets a
// single "checkpoint" node that saves only the inputs. Its backward re-runs fn with recording on,
// on detached copies of the inputs, and back-propagates through that fresh graph (a backward inside
// the backward), handing the inputs' gradients on. A GAU layer under checkpoint keeps only its input.
//
// fn must compute the same thing twice: any randomness must come from an explicit (seed, offset),
// not from advancing a shared generator. fn may read parameters it captures (leaves: their
// gradients accumulate during the recompute as usual); list them in `params` so that the node is
// recorded even when no input requires grad (e.g. the first layer of a model, fed token data).
// Non-leaf tensors fn depends on must be passed as inputs. Inputs modified in place between the
// forward and the backward are an error (version check on the saved inputs).
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace gau {

using CheckpointFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

std::vector<Tensor> checkpoint(const CheckpointFn& fn, const std::vector<Tensor>& inputs,
                               const std::vector<Tensor>& params = {});
// One output.
Tensor checkpoint(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                  const std::vector<Tensor>& params = {});

}  // namespace gau
