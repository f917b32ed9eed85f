#pragma once
// `gau bench autograd`: what the tape costs per op, on 1-element f32 tensors, where the kernels
// are negligible and the figure is gau's own overhead (allocation, dispatch, recording; on a GPU
// also the launches):
//   kernel      y = x * w with grad mode off (the op alone, nothing recorded)
//   record      the same with x and w requiring grad (the op plus its tape node)
//   backward    the backward walk of a 1,000-op chain, per node
//   graph_1000  recording and back-propagating a 1,000-op chain, whole
// Figures are nanoseconds per op (median over repeats); the 1,000-op graph also in ms.
// And the gradient sink: weight_grad_sink times the backward of y = x w (x [64, 2048], w [2048,
// 2048] with an f32 gradient buffer) writing d_w into the buffer with one beta = 1 GEMM, against
// a fresh GEMM plus an add into the buffer (the path without sinks), interleaved.
#include <nlohmann/json.hpp>

#include "bench/bench.h"

namespace gau::bench {

nlohmann::json run_autograd_bench(const BenchConfig& cfg);

}  // namespace gau::bench
