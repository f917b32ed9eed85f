// Adafactor on CUDA: three multi-tensor launches (math in optim/adafactor.h). The first two give
// each parameter one block (its reductions in a fixed order: deterministic): Σ w², R and C (a
// warp per row, a thread per column) or V, and mean(R); then Σ U², α and the clipping scale. The
// third applies the update over every chunk of every parameter.
#include "core/ops/cuda/block_reduce.cuh"
#include "core/ops/factory.h"
#include "optim/cuda/multi_tensor.cuh"

namespace gau::optim::cuda {

namespace {

// Per parameter, between the launches: [ranges, 4] f64.
struct RangeStats {
  double rms_w, row_mean, scale, decay;
};

template <typename W, typename G>
__global__ void adafactor_second_kernel(const KernelRange* ranges, const G* g, const W* w, W* second,
                                        AdafactorScalars s, RangeStats* stats) {
  __shared__ double smem[32];
  const KernelRange r = ranges[blockIdx.x];
  const G* gr = g + r.offset;
  const W* wr = w + r.offset;
  W* row = second + r.aux;
  const W beta2t = static_cast<W>(s.beta2t), keep = static_cast<W>(1 - s.beta2t), eps1 = static_cast<W>(s.eps1);
  double w2 = 0, row_sum = 0;
  if (r.cols > 0) {
    const int64_t rows = r.rows, cols = r.cols;
    W* col = row + rows;
    const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
    for (int64_t i = threadIdx.x / 32; i < rows; i += warps) {
      double rs = 0;
      for (int64_t j = lane; j < cols; j += 32) {
        const W gi = static_cast<W>(gr[i * cols + j]);
        rs += gi * gi + eps1;
      }
      rs = ops::cuda::warp_sum(rs);
      if (lane == 0) row[i] = beta2t * row[i] + keep * static_cast<W>(rs / static_cast<double>(cols));
    }
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      double cs = 0;
      for (int64_t i = 0; i < rows; ++i) {
        const W gi = static_cast<W>(gr[i * cols + j]);
        cs += gi * gi + eps1;
        w2 += static_cast<double>(wr[i * cols + j]) * wr[i * cols + j];
      }
      col[j] = beta2t * col[j] + keep * static_cast<W>(cs / static_cast<double>(rows));
    }
    __syncthreads();  // every row written
    for (int64_t i = threadIdx.x; i < rows; i += blockDim.x) row_sum += row[i];
  } else {
    for (int64_t k = threadIdx.x; k < r.numel; k += blockDim.x) {
      const W gi = static_cast<W>(gr[k]);
      row[k] = beta2t * row[k] + keep * (gi * gi + eps1);
      w2 += static_cast<double>(wr[k]) * wr[k];
    }
  }
  w2 = ops::cuda::block_sum(w2, smem);
  row_sum = ops::cuda::block_sum(row_sum, smem);
  if (threadIdx.x == 0) {
    stats[blockIdx.x].rms_w = sqrt(w2 / static_cast<double>(r.numel));
    stats[blockIdx.x].row_mean = r.cols > 0 ? row_sum / static_cast<double>(r.rows) : 1.0;
  }
}

// U before clipping at element k (= i·cols + j) of a parameter, as the CPU computes it.
template <typename W, typename G>
__device__ __forceinline__ W update_at(const KernelRange& r, const G* gr, const W* row, W row_mean, int64_t k) {
  if (r.cols > 0) {
    const int64_t i = k / r.cols, j = k - i * r.cols;
    const W* col = row + r.rows;
    return static_cast<W>(gr[k]) * (W(1) / sqrt(row[i] / row_mean)) * (W(1) / sqrt(col[j]));
  }
  return W(1) / sqrt(row[k]) * static_cast<W>(gr[k]);
}

template <typename W, typename G>
__global__ void adafactor_scale_kernel(const KernelRange* ranges, const G* g, const W* second, AdafactorScalars s,
                                       RangeStats* stats) {
  __shared__ double smem[32];
  const KernelRange r = ranges[blockIdx.x];
  const G* gr = g + r.offset;
  const W* row = second + r.aux;
  const W row_mean = static_cast<W>(stats[blockIdx.x].row_mean);
  double u2 = 0;
  for (int64_t k = threadIdx.x; k < r.numel; k += blockDim.x) {
    const W u = update_at(r, gr, row, row_mean, k);
    u2 += static_cast<double>(u) * u;
  }
  u2 = ops::cuda::block_sum(u2, smem);
  if (threadIdx.x == 0) {
    RangeStats& st = stats[blockIdx.x];
    const double rms_u = sqrt(u2 / static_cast<double>(r.numel));
    const double alpha = s.step_size * r.lr_scale * (s.scale_parameter ? fmax(s.eps2, st.rms_w) : 1.0);
    st.scale = alpha / fmax(1.0, rms_u / s.clip_threshold);
    st.decay = -r.weight_decay * alpha;
  }
}

template <typename W>
struct ApplyLocal {
  KernelRange r;
  W row_mean, scale, decay;
};

template <typename W, typename G, typename C, bool kStochastic>
struct AdafactorApplyOp {
  W* w;
  const G* g;
  C* copy;
  const W* second;
  W* m;
  const RangeStats* stats;
  const KernelRange* ranges;
  AdafactorScalars s;
  uint64_t seed, step;

  __device__ ApplyLocal<W> prepare(const KernelRange& r) const {
    const RangeStats st = stats[&r - ranges];
    return {r, static_cast<W>(st.row_mean), static_cast<W>(st.scale), static_cast<W>(st.decay)};
  }
  __device__ void operator()(const ApplyLocal<W>& k, int64_t i) const {
    const int64_t e = i - k.r.offset;
    W u = update_at(k.r, g + k.r.offset, second + k.r.aux, k.row_mean, e) * k.scale;
    if (m) {
      m[i] = static_cast<W>(s.beta1) * m[i] + static_cast<W>(1 - s.beta1) * u;
      u = m[i];
    }
    W wi = w[i];
    wi = wi + k.decay * wi;  // torch: p.add_(p, alpha=-weight_decay * lr)
    wi = wi - u;             // torch: p.add_(-update)
    w[i] = wi;
    store_copy<C, kStochastic>(copy, i, static_cast<float>(wi), seed, step);
  }
};

}  // namespace

void adafactor_step(const UpdateTarget& t, const RangeTable& table, const AdafactorScalars& s, const Tensor& second,
                    const Tensor& m) {
  if (table.ranges.empty()) return;
  dispatch_target(t, "adafactor_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    const Device device = t.w.device();
    DeviceGuard guard(device);
    cudaStream_t stream = current_cuda_stream(device);
    const unsigned n_ranges = static_cast<unsigned>(table.ranges.size());
    Tensor stats_t = ops::empty({static_cast<int64_t>(n_ranges), 4}, DType::f64, device);
    auto* stats = static_cast<RangeStats*>(stats_t.data_ptr());
    W* sec = static_cast<W*>(second.data_ptr());
    adafactor_second_kernel<W, G><<<n_ranges, kThreads, 0, stream>>>(device_ranges(table), b.g, b.w, sec, s, stats);
    GAU_CUDA_CHECK_LAUNCH();
    adafactor_scale_kernel<W, G><<<n_ranges, kThreads, 0, stream>>>(device_ranges(table), b.g, sec, s, stats);
    GAU_CUDA_CHECK_LAUNCH();
    W* pm = s.first_moment ? static_cast<W*>(m.data_ptr()) : nullptr;
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      launch_chunks(
          table, device,
          AdafactorApplyOp<W, G, C, kSR>{b.w, b.g, b.copy, sec, pm, stats, device_ranges(table), s, t.seed, t.step});
    });
  });
}

}  // namespace gau::optim::cuda
