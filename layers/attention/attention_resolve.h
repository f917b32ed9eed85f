#pragma once
// Validation of dot_product_attention() inputs and resolution of its options (defaults, padding,
// bias table) into the kernel-level ResolvedOptions. Every error names the op, what was expected
// and what was given (shapes, dtypes, devices).
#include "layers/attention/attention_backend.h"

namespace gau::attention::detail {

// q [b, h, n_q, s], k [b, h, n_k, s], v [b, h, n_k, e]. Throws gau::Error on bad input.
void validate_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opt);

// Assumes validate_inputs passed. Lengths become i64 on the inputs' device; a prefix key_mask
// becomes lengths; the bias table becomes contiguous in the compute dtype (f64 for f64, else f32).
ResolvedOptions resolve_options(const Tensor& q, const Tensor& k, const AttentionOptions& opt);

}  // namespace gau::attention::detail
