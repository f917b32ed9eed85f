#include "layers/models/mlm_masking.h"

#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"

namespace gau::layers {

namespace {

// t (i32/i64, any device) as host i64 values in row-major order.
std::vector<int64_t> host_values(const Tensor& t) {
  const Tensor h = ops::contiguous(ops::to_dtype(ops::to_device(t, Device::cpu()), DType::i64));
  return std::vector<int64_t>(h.data<int64_t>(), h.data<int64_t>() + h.numel());
}

Tensor like(const std::vector<int64_t>& v, const Tensor& ids) {
  return ops::to_device(ops::to_dtype(ops::from_vector<int64_t>(v, ids.shape()), ids.dtype()), ids.device());
}

}  // namespace

MaskedTokens mask_tokens(const Tensor& ids, Generator& gen, const MlmMasking& opt, const Tensor& key_lengths) {
  GAU_CHECK(ids.defined() && (ids.dtype() == DType::i32 || ids.dtype() == DType::i64) && ids.dim() == 2,
            "mask_tokens: expected token ids [b, n] (i32 or i64), got ",
            ids.defined() ? describe(ids) : std::string("an undefined tensor"));
  GAU_CHECK(opt.vocab > 0 && opt.mask_token >= 0 && opt.mask_token < opt.vocab, "mask_tokens: the mask token ",
            opt.mask_token, " must be in [0, vocab = ", opt.vocab, ")");
  GAU_CHECK(opt.mask_prob >= 0 && opt.mask_prob <= 1 && opt.mask_fraction >= 0 && opt.random_fraction >= 0 &&
                opt.mask_fraction + opt.random_fraction <= 1,
            "mask_tokens: mask_prob ", opt.mask_prob, " must be in [0, 1], and mask_fraction ", opt.mask_fraction,
            " and random_fraction ", opt.random_fraction, " non-negative with a sum <= 1");
  const int64_t b = ids.size(0), n = ids.size(1);
  std::vector<int64_t> lengths(static_cast<size_t>(b), n);
  if (key_lengths.defined()) {
    GAU_CHECK(key_lengths.dim() == 1 && key_lengths.size(0) == b, "mask_tokens: key_lengths must be [", b, "], got ",
              describe(key_lengths));
    lengths = host_values(key_lengths);
  }
  std::vector<int64_t> inputs = host_values(ids), targets(inputs.size(), opt.ignore_index);
  const uint64_t offset = gen.advance(3 * static_cast<uint64_t>(inputs.size()));
  for (int64_t r = 0; r < b; ++r)
    for (int64_t i = 0; i < n && i < lengths[static_cast<size_t>(r)]; ++i) {
      const size_t t = static_cast<size_t>(r * n + i);
      if (philox_uniform(gen.seed(), offset, 3 * t) >= opt.mask_prob) continue;
      targets[t] = inputs[t];
      const double kind = philox_uniform(gen.seed(), offset, 3 * t + 1);
      if (kind < opt.mask_fraction) {
        inputs[t] = opt.mask_token;
      } else if (kind < opt.mask_fraction + opt.random_fraction) {
        const double u = philox_uniform(gen.seed(), offset, 3 * t + 2);
        inputs[t] = static_cast<int64_t>(u * static_cast<double>(opt.vocab)) % opt.vocab;
      }
    }
  return {like(inputs, ids), like(targets, ids)};
}

}  // namespace gau::layers
