#pragma once
// The fused optimizer kernels, in gau::optim::cpu (optim/cpu/) and gau::optim::cuda
// (optim/cuda/, built with CUDA only). The optimizer classes (sgd.h, adam.h, lamb.h, adafactor.h,
// lion.h) hold the math; these declarations say what each kernel reads and writes.
//
// Every kernel makes ONE pass (LAMB and Adafactor: one pass per reduction they need) over all the
// ranges of one flat group at once: a range table (RangeTable) lists the ranges and cuts them into
// fixed-size chunks; the CPU splits the chunks across its OpenMP threads, the GPU gives each chunk
// to a block of a grid-stride loop (apex's multi_tensor_apply without its launch per 110 tensors).
// Reductions (LAMB's norms, Adafactor's RMS) sum per chunk, then the chunks of a range in order,
// so the result does not depend on the number of threads or blocks.
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/macros.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace gau::optim {

// One range of a flat buffer with its group settings; for LAMB and Adafactor one parameter.
struct KernelRange {
  int64_t offset = 0;       // first element in the flat params, grads and same-offset state
  int64_t numel = 0;        // elements
  int64_t rows = 1;         // Adafactor's matrix view [rows, cols] of a >= 2-D parameter
  int64_t cols = 0;         //   (cols = last dim); cols = 0 for a 1-D one (unfactored)
  int64_t aux = 0;          // Adafactor: where its second moments start in the compact state
  int64_t first_chunk = 0;  // its chunks in RangeTable::chunks: [first_chunk, first_chunk + chunks)
  int64_t chunks = 0;
  double lr_scale = 1;      // the lr multiplier of its group
  double weight_decay = 0;  // the optimizer's weight decay, or 0 for a no_decay range
};

// A piece of one range: elements [begin, end) of the flat buffers.
struct KernelChunk {
  int64_t range = 0;
  int64_t begin = 0, end = 0;
};

// Elements per chunk: 64K f32 are 256 KiB per operand, large enough that a thread's or a block's
// fixed cost vanishes, small enough that 2 threads or 132 SMs share 10M parameters evenly.
inline constexpr int64_t kChunkElements = int64_t{1} << 16;

// The ranges of one flat group and their chunks, on the host and (for a CUDA group) a device copy
// of both arrays, uploaded once: the table does not change between steps (the lr does, and it
// travels as a kernel argument).
struct RangeTable {
  std::vector<KernelRange> ranges;
  std::vector<KernelChunk> chunks;
  Tensor device_ranges;  // b8 [ranges.size() * sizeof(KernelRange)] on the group's CUDA device
  Tensor device_chunks;  // b8 [chunks.size() * sizeof(KernelChunk)]
};

// Cuts the ranges into chunks (filling first_chunk and chunks) and, for a CUDA device, uploads.
RangeTable make_range_table(std::vector<KernelRange> ranges, Device device);

// What a kernel updates: the weights it computes on and, for bf16/f16 parameters, the rounded
// copy it writes back (the model's parameters), and the gradients.
struct UpdateTarget {
  Tensor w;     // [total] f32 or f64: the parameters, or the f32 master weights of a bf16/f16 group
  Tensor copy;  // [total] bf16/f16 parameters written from w each step, or undefined
  Tensor g;     // [total] gradients: w's dtype, or copy's dtype
  bool stochastic_rounding = false;  // copy = stochastic rounding of w (else nearest even)
  uint64_t seed = 0;                 // the rounding's Philox key ...
  uint64_t step = 0;                 // ... and its high counter word (the step)
};

// Rounds f32 to bf16/f16 stochastically: up with probability (x - down) / (up - down), so that
// E[round(x)] = x. `u` is uniform 32 random bits. Non-finite values round to nearest.
GAU_HD uint16_t stochastic_bf16_bits(float x, uint32_t u) {
  const uint32_t b = float_bits(x);
  if ((b & 0x7f800000u) == 0x7f800000u) return float_to_bf16_bits(x);
  return static_cast<uint16_t>((b + (u & 0xffffu)) >> 16);
}
GAU_HD uint16_t stochastic_f16_bits(float x, uint32_t u) {
  const uint16_t near = float_to_f16_bits(x);
  const float fn = f16_bits_to_float(near);
  if (fn == x || !(x == x) || (float_bits(x) & 0x7f800000u) == 0x7f800000u) return near;
  // f16 is sign-magnitude: the neighbour on x's side of `near` is one code up or down in magnitude.
  const bool x_larger = (x < 0 ? -x : x) > (fn < 0 ? -fn : fn);
  const uint16_t other = static_cast<uint16_t>(x_larger ? near + 1 : near - 1);
  const float fo = f16_bits_to_float(other);
  const float p = (x - fn) / (fo - fn);  // in (0, 1): how far x is from near towards other
  return uint_to_unit_float(u) < p ? other : near;
}

// Per-step scalars of each optimizer (the formulas are in its header).
struct SgdScalars {
  double lr, momentum, dampening;
  bool nesterov, first_step;
};
struct AdamScalars {
  double lr, beta1, beta2, eps, bias_correction1, bias_correction2_sqrt;
  bool decoupled, amsgrad;
};
struct LionScalars {
  double lr, beta1, beta2;
};
struct LambScalars {
  double lr, beta1, beta2, eps, bias_correction1, bias_correction2;
};
struct AdafactorScalars {
  double step_size;  // lr × the relative step, before the parameter scale
  double beta2t, eps1, eps2, clip_threshold, beta1;
  bool scale_parameter, first_moment;
};

}  // namespace gau::optim

#define GAU_OPTIM_KERNELS(...) \
  namespace gau::optim::cpu {  \
  __VA_ARGS__                  \
  }                            \
  namespace gau::optim::cuda { \
  __VA_ARGS__                  \
  }

GAU_OPTIM_KERNELS(
    // momentum [total] (w's dtype; unused when momentum = 0).
    void sgd_step(const UpdateTarget& t, const RangeTable& table, const SgdScalars& s, const Tensor& momentum);
    // m, v [total] f32/f64; v_max [total] when amsgrad.
    void adam_step(const UpdateTarget& t, const RangeTable& table, const AdamScalars& s, const Tensor& m,
                   const Tensor& v, const Tensor& v_max);
    // m [total].
    void lion_step(const UpdateTarget& t, const RangeTable& table, const LionScalars& s, const Tensor& m);
    // m, v [total]; partial [chunks, 2] f64 scratch for the per-chunk squared norms of w and the update.
    void lamb_step(const UpdateTarget& t, const RangeTable& table, const LambScalars& s, const Tensor& m,
                   const Tensor& v, const Tensor& partial);
    // second [aux total] f32/f64: per range its row and column accumulators (rows + cols) when
    // factored, else numel; m [total] when first_moment.
    void adafactor_step(const UpdateTarget& t, const RangeTable& table, const AdafactorScalars& s, const Tensor& second,
                        const Tensor& m);)
