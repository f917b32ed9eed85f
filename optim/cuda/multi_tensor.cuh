#pragma once
// The CUDA optimizer kernels' multi-tensor loop: one launch over every chunk of a range table.
// Block b takes chunks b, b + gridDim.x, ... (the device copy of the table's chunk and range
// arrays); its threads stride through the chunk. A functor Op provides
//   Local prepare(const KernelRange&) const   per-range constants, once per chunk
//   void operator()(const Local&, int64_t i) const   element i of the flat buffers
#include <cuda_runtime.h>

#include <algorithm>

#include "core/cuda/context.h"
#include "core/cuda/cuda_check.h"
#include "optim/kernels.h"
#include "optim/target.h"

namespace gau::optim::cuda {

using gau::cuda::current_cuda_stream;
using gau::cuda::DeviceGuard;
using gau::cuda::kThreads;

inline const KernelRange* device_ranges(const RangeTable& t) {
  return static_cast<const KernelRange*>(t.device_ranges.data_ptr());
}
inline const KernelChunk* device_chunks(const RangeTable& t) {
  return static_cast<const KernelChunk*>(t.device_chunks.data_ptr());
}

template <typename Op>
__global__ void chunk_kernel(const KernelRange* ranges, const KernelChunk* chunks, int64_t n_chunks, Op op) {
  for (int64_t c = blockIdx.x; c < n_chunks; c += gridDim.x) {
    const KernelChunk ch = chunks[c];
    const auto local = op.prepare(ranges[ch.range]);
    for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) op(local, i);
  }
}

// One block per chunk, up to 65535 blocks, on the device's current stream.
inline unsigned chunk_blocks(const RangeTable& t) {
  return static_cast<unsigned>(std::clamp<int64_t>(static_cast<int64_t>(t.chunks.size()), 1, 65535));
}

template <typename Op>
void launch_chunks(const RangeTable& t, Device device, const Op& op) {
  if (t.chunks.empty()) return;
  GAU_CHECK(t.device_chunks.defined() && t.device_chunks.device() == device,
            "optimizer kernel: the range table was not uploaded to ", device);
  DeviceGuard guard(device);
  chunk_kernel<<<chunk_blocks(t), kThreads, 0, current_cuda_stream(device)>>>(
      device_ranges(t), device_chunks(t), static_cast<int64_t>(t.chunks.size()), op);
  GAU_CUDA_CHECK_LAUNCH();
}

template <typename T>
__device__ __forceinline__ float as_float(T v) {
  return static_cast<float>(v);
}

}  // namespace gau::optim::cuda
