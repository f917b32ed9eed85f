#pragma once
// BERT-style masking for masked-language-model training (Devlin et al. 2019): each token is
// chosen with probability mask_prob; a chosen token becomes the mask token with probability
// mask_fraction, a uniformly random token with probability random_fraction, and stays itself
// otherwise, and only chosen tokens are predicted.
//
//   ids [b, n] -> inputs [b, n] (what the encoder reads), targets [b, n] (the original id where
//   chosen, ignore_index elsewhere)
//
// The draws come from a Generator (three Philox numbers per token at the generator's offset, which
// advances), so a seed fixes the masks on every device. Padding (positions >= key_lengths[r]) is
// never chosen.
#include <cstdint>

#include "core/rng.h"
#include "core/tensor.h"

namespace gau::layers {

struct MlmMasking {
  int64_t mask_token = 0;
  int64_t vocab = 0;  // random replacements are drawn from [0, vocab)
  double mask_prob = 0.15;
  double mask_fraction = 0.8;
  double random_fraction = 0.1;
  int64_t ignore_index = -100;
};

struct MaskedTokens {
  Tensor inputs;   // [b, n], the ids' dtype and device
  Tensor targets;  // [b, n]
};

// ids [b, n] (i32/i64), key_lengths [b] (optional, i32/i64).
MaskedTokens mask_tokens(const Tensor& ids, Generator& gen, const MlmMasking& opt, const Tensor& key_lengths = {});

}  // namespace gau::layers
