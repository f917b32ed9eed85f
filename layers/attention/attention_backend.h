#pragma once
// The kernel-level contract behind dot_product_attention(): one forward and one recompute-backward
// per backend. attention.cpp validates inputs, resolves defaults (scale, lengths), and wraps these
// in an autograd Function; backends see contiguous tensors of one dtype on one device.
#include "layers/attention/attention.h"

namespace gau::attention::detail {

// Options after validation: scale resolved, key_mask folded to lengths when it is a prefix mask
// (otherwise kept as a mask), lengths as i64 on the inputs' device.
struct ResolvedOptions {
  Kernel kernel = Kernel::softmax;
  bool causal = false;
  double scale = 1.0;                  // used when !scale_by_valid_length
  bool scale_by_valid_length = false;  // relu2/laplace: scale = 1 / valid keys of batch row b
  double log_length_base = 0;          // > 1: scale · log(valid keys) / log(base) per batch row (row_scale.h)
  Tensor key_lengths;                  // [b] i64, or undefined (all keys valid)
  Tensor key_mask;                     // [b, n_k] bool, or undefined
  RelativeBias bias;                   // table contiguous, same device; f32 (f64 when q is f64)
  double dropout_p = 0;
  uint64_t seed = 0;
  uint64_t offset = 0;
};

struct ForwardResult {
  Tensor o;    // [b, h, n_q, e], q's dtype
  Tensor lse;  // [b, h, n_q] f32 (f64 for f64 inputs); softmax only, undefined otherwise
};

struct BackwardResult {
  Tensor d_q;     // [b, h, n_q, s]
  Tensor d_k;     // [b, h, n_k, s]
  Tensor d_v;     // [b, h, n_k, e]
  Tensor d_bias;  // like bias.table, or undefined when there is no bias
};

// q [b,h,n_q,s], k [b,h,n_k,s], v [b,h,n_k,e], all contiguous.
ForwardResult forward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt);
BackwardResult backward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                            const Tensor& d_o, const ResolvedOptions& opt);

// CUDA (layers/attention/cuda/): bf16/f16 (and f32 where supported) with fp32 accumulation.
// Throws naming the supported dtypes and head dims when a combination is not supported.
bool cuda_supports(DType dtype, int64_t s, int64_t e, std::string* why_not = nullptr);
ForwardResult forward_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt);
BackwardResult backward_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                             const Tensor& d_o, const ResolvedOptions& opt);

// cuDNN SDPA graph (layers/attention/cudnn/): softmax only, graphs cached per shape.
bool cudnn_supports(DType dtype, int64_t s, int64_t e, const ResolvedOptions& opt, std::string* why_not = nullptr);
ForwardResult forward_cudnn(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt);
BackwardResult backward_cudnn(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                              const Tensor& d_o, const ResolvedOptions& opt);

// Shared math, identical on every backend (host+device versions live with the kernels):
//   T5 bucket of the relative position rel = i + (n_k - n_q) - j (Raffel et al. 2020), per
//   RelativeBias fields; per_offset clamps the same rel (attention.h, "Positions").
//   Dropout keep test for element (bh, i, j): philox_uniform(seed, offset, (bh * n_q + i) * n_k + j) >= p,
//   kept weights scaled by 1 / (1 - p).

}  // namespace gau::attention::detail
