// LAMB on CUDA: two multi-tensor launches (math in optim/lamb.h). The first updates m and v and
// writes each chunk's sums of w² and u² (a block reduction); the second sums a parameter's chunks
// in order into its trust ratio and applies the update: deterministic for any grid.
#include "core/ops/cuda/block_reduce.cuh"
#include "optim/cuda/multi_tensor.cuh"

namespace gau::optim::cuda {

namespace {

template <typename W>
struct LambCoefs {
  W beta1, beta2, one_minus_beta1, one_minus_beta2, bc1, bc2, eps;
  __device__ W update(W m, W v, W w, W wd) const { return (m / bc1) / (sqrt(v / bc2) + eps) + wd * w; }
};

template <typename W>
LambCoefs<W> coefs(const LambScalars& s) {
  return {static_cast<W>(s.beta1),
          static_cast<W>(s.beta2),
          static_cast<W>(1 - s.beta1),
          static_cast<W>(1 - s.beta2),
          static_cast<W>(s.bias_correction1),
          static_cast<W>(s.bias_correction2),
          static_cast<W>(s.eps)};
}

template <typename W, typename G>
__global__ void lamb_moments_kernel(const KernelRange* ranges, const KernelChunk* chunks, int64_t n_chunks, W* w,
                                    const G* g, W* m, W* v, LambCoefs<W> k, double* partial) {
  __shared__ double smem[32];
  for (int64_t c = blockIdx.x; c < n_chunks; c += gridDim.x) {
    const KernelChunk ch = chunks[c];
    const W wd = static_cast<W>(ranges[ch.range].weight_decay);
    double w2 = 0, u2 = 0;
    for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) {
      const W gi = static_cast<W>(g[i]);
      const W mi = k.beta1 * m[i] + k.one_minus_beta1 * gi;
      const W vi = k.beta2 * v[i] + k.one_minus_beta2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      const W u = k.update(mi, vi, w[i], wd);
      w2 += static_cast<double>(w[i]) * static_cast<double>(w[i]);
      u2 += static_cast<double>(u) * static_cast<double>(u);
    }
    w2 = ops::cuda::block_sum(w2, smem);
    u2 = ops::cuda::block_sum(u2, smem);
    if (threadIdx.x == 0) partial[2 * c] = w2, partial[2 * c + 1] = u2;
  }
}

template <typename W, typename C, bool kStochastic>
__global__ void lamb_apply_kernel(const KernelRange* ranges, const KernelChunk* chunks, int64_t n_chunks, W* w, C* copy,
                                  const W* m, const W* v, LambCoefs<W> k, const double* partial, double lr,
                                  uint64_t seed, uint64_t step) {
  __shared__ double rate;
  for (int64_t c = blockIdx.x; c < n_chunks; c += gridDim.x) {
    const KernelChunk ch = chunks[c];
    const KernelRange r = ranges[ch.range];
    __syncthreads();  // the previous chunk's threads are done with `rate`
    if (threadIdx.x == 0) {
      double w2 = 0, u2 = 0;  // r = ‖w‖ / ‖u‖, the parameter's chunks summed in order
      for (int64_t j = r.first_chunk; j < r.first_chunk + r.chunks; ++j) w2 += partial[2 * j], u2 += partial[2 * j + 1];
      rate = lr * r.lr_scale * (w2 > 0 && u2 > 0 ? sqrt(w2) / sqrt(u2) : 1.0);
    }
    __syncthreads();
    const W wd = static_cast<W>(r.weight_decay), a = static_cast<W>(rate);
    for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) {
      const W wi = w[i] - a * k.update(m[i], v[i], w[i], wd);
      w[i] = wi;
      store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
    }
  }
}

}  // namespace

void lamb_step(const UpdateTarget& t, const RangeTable& table, const LambScalars& s, const Tensor& m, const Tensor& v,
               const Tensor& partial) {
  if (table.chunks.empty()) return;
  dispatch_target(t, "lamb_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    DeviceGuard guard(t.w.device());
    cudaStream_t stream = current_cuda_stream(t.w.device());
    const int64_t n = static_cast<int64_t>(table.chunks.size());
    W* pm = static_cast<W*>(m.data_ptr());
    W* pv = static_cast<W*>(v.data_ptr());
    double* part = static_cast<double*>(partial.data_ptr());
    const LambCoefs<W> k = coefs<W>(s);
    lamb_moments_kernel<W, G><<<chunk_blocks(table), kThreads, 0, stream>>>(device_ranges(table), device_chunks(table),
                                                                            n, b.w, b.g, pm, pv, k, part);
    GAU_CUDA_CHECK_LAUNCH();
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      lamb_apply_kernel<W, C, kSR><<<chunk_blocks(table), kThreads, 0, stream>>>(
          device_ranges(table), device_chunks(table), n, b.w, b.copy, pm, pv, k, part, s.lr, t.seed, t.step);
      GAU_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace gau::optim::cuda
