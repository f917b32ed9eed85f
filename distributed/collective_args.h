#pragma once
// The checks every backend makes before it starts a collective, so that a bad argument is the
// same error, in the same words, on every backend, and is raised before any rank starts
// communicating. Also the collective's description used in timeout and error messages.
#include <string>

#include "core/device.h"
#include "core/tensor.h"
#include "distributed/communicator.h"

namespace gau::distributed {

const char* reduce_op_name(ReduceOp op);

// "all_reduce(avg) of f32[1024] (4 KiB)": what a timeout or failure message names.
std::string describe_collective(const std::string& collective, const Tensor& t);

// `t` is defined, contiguous, on `device`, of a dtype collectives carry (f32, f64, bf16, f16, i32,
// i64); for ReduceOp::avg, of a floating dtype.
void check_collective_tensor(const char* collective, const Tensor& t, Device device);
void check_reduce_op(const char* collective, const Tensor& t, ReduceOp op);

// broadcast and reduce: `root` is a rank of this world.
void check_root(const char* collective, int root, int world_size);
// all_gather: out [world_size * n] and in [n] of one dtype, not overlapping.
void check_all_gather(const Tensor& out, const Tensor& in, int world_size, Device device);
// reduce_scatter: out [n] and in [world_size * n] of one dtype, not overlapping.
void check_reduce_scatter(const Tensor& out, const Tensor& in, ReduceOp op, int world_size, Device device);

}  // namespace gau::distributed
