#pragma once
// The kernel-level contract behind flash_attention(): one forward and one backward per backend.
// flash.cpp validates the inputs, resolves the options and wraps these in an autograd Function;
// backends see contiguous tensors of one floating dtype on one device.
#include "layers/attention/flash.h"

namespace gau::attention::detail {

// The compute dtype of a storage dtype: f64 for f64, f32 otherwise (every backend's accumulators,
// the relative bias and the states).
inline DType compute_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

struct FlashResolved {
  int64_t chunk = 256;
  bool causal = false;
  LinearNorm linear_norm = LinearNorm::chunk;
  double norm_n = 0;       // the `n` normaliser (max_length, or the input's n)
  bool save_states = false;  // causal && !recompute: forward keeps the per-chunk prefix states
  Tensor bias;             // [2c - 1] contiguous, same device, f32 (f64 for f64 inputs); or undefined
  Tensor key_lengths;      // [b] i64 on the inputs' device, or undefined (all n keys valid)
};

struct FlashForwardResult {
  Tensor o;  // [b, n, e], the inputs' dtype
  // Linear-part states, f32 (f64 for f64 inputs):
  //   bidirectional: [b, 1, s, e] = sum over all valid keys of kl^T v (not normalised);
  //   causal with save_states: [b, G, s, e], entry g = sum over chunks h < g of kl_h^T v_h;
  //   otherwise undefined.
  Tensor states;
};

struct FlashBackwardResult {
  Tensor d_qq, d_kq, d_ql, d_kl;  // [b, n, s]
  Tensor d_v;                     // [b, n, e]
  Tensor d_bias;                  // like opt.bias, or undefined
};

// qq, kq, ql, kl [b, n, s]; v, d_o [b, n, e]; all contiguous, one dtype.
FlashForwardResult flash_forward_cpu(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                     const Tensor& v, const FlashResolved& opt);
FlashBackwardResult flash_backward_cpu(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                       const Tensor& v, const Tensor& states, const Tensor& d_o,
                                       const FlashResolved& opt);

// CUDA (layers/attention/cuda/flash*.cu): bf16 and f16 storage, f32 accumulation and state.
bool flash_cuda_supports(DType dtype, int64_t s, int64_t e, int64_t c, std::string* why_not = nullptr);
FlashForwardResult flash_forward_cuda(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                      const Tensor& v, const FlashResolved& opt);
FlashBackwardResult flash_backward_cuda(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                        const Tensor& v, const Tensor& states, const Tensor& d_o,
                                        const FlashResolved& opt);

// The normaliser of chunk g's linear part for a row with `valid` keys out of n (valid == n
// without key_lengths); 0 means "no linear contribution" (empty prefix or no valid keys).
// Shared by every backend and by decoding so that they agree exactly.
GAU_HD double flash_inv_norm(bool causal, LinearNorm norm, double norm_n, int64_t c, int64_t g, int64_t valid) {
  if (!causal) return valid > 0 ? 1.0 / static_cast<double>(valid) : 0.0;
  switch (norm) {
    case LinearNorm::chunk: return 1.0 / static_cast<double>(c);
    case LinearNorm::n: return 1.0 / norm_n;
    case LinearNorm::prefix: {
      int64_t before = g * c < valid ? g * c : valid;
      return before > 0 ? 1.0 / static_cast<double>(before) : 0.0;
    }
  }
  return 0.0;
}

}  // namespace gau::attention::detail
