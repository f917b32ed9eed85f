#pragma once
// The scale of q k^T for one batch row, shared verbatim by the CPU tiles and the CUDA kernels so
// that both backends apply the same rule (AttentionOptions: scale, scale_by_valid_length,
// log_length_base).
#include <cmath>
#include <cstdint>

#include "core/macros.h"

namespace gau::attention::detail {

// `valid`: the row's valid keys (key_lengths or the true entries of key_mask, else n_k). A row
// without valid keys has no weights, so its scale does not matter; it keeps `scale`.
GAU_HD double row_scale(double scale, bool by_valid_length, double log_length_base, int64_t valid) {
  if (valid <= 0) return by_valid_length ? 1.0 : scale;
  if (by_valid_length) return 1.0 / static_cast<double>(valid);
  if (log_length_base > 0) return scale * log(static_cast<double>(valid)) / log(log_length_base);
  return scale;
}

}  // namespace gau::attention::detail
