#pragma once
// Text generation from a language model, token by token through each block's incremental
// decoding (KV cache for softmax attention, the GAU cache, FLASH's decode state), so the cost of
// a token does not grow with its position for FLASH.
//
//   Sampling s{.max_tokens = 200, .temperature = 0.8, .top_k = 40, .seed = 7};
//   Generated g = generate(lm, prompt_ids, s, device);   // g.tokens: the new ids only
//
// Sampling of token t (0, 1, ... after the prompt): logits / temperature, softmax in double, cut
// to the top_k most likely (0: no cut), then to the smallest set whose probability reaches top_p
// (1: no cut), renormalised; the token is drawn with the uniform number t of the Philox stream
// `seed`. So a seed gives the same text on every run and thread count. temperature 0 is greedy
// (the most likely id, the lowest on a tie).
#include <cstdint>
#include <span>
#include <vector>

#include "core/device.h"

namespace gau::layers {
class LanguageModel;
}

namespace gau::trainers {

struct Sampling {
  int64_t max_tokens = 200;
  double temperature = 1.0;  // >= 0; 0: greedy
  int64_t top_k = 0;         // >= 0; 0: all
  double top_p = 1.0;        // in (0, 1]
  uint64_t seed = 1;
  int32_t stop_id = -1;  // stops after generating this id (an end of document); -1: never
  // > 0: only ids below it are drawn; the tokenizer's vocabulary, where model.vocab pads it
  // beyond (to a multiple of 64, say) with ids that decode to nothing.
  int64_t vocab_limit = 0;
};

// Checks the options, naming the bad one.
void check_sampling(const Sampling& s);

// The id drawn from `logits` (one row, [V]) for token number `index`.
int32_t sample_token(std::span<const float> logits, const Sampling& s, uint64_t index);

struct Generated {
  std::vector<int32_t> tokens;  // generated after the prompt (the stop id included when hit)
  bool hit_max_length = false;  // stopped at the model's max_length before max_tokens
};

// `prompt` must hold at least one id and fewer than the model's max_length.
Generated generate(layers::LanguageModel& lm, const std::vector<int32_t>& prompt, const Sampling& s, Device device);

}  // namespace gau::trainers
