#include "trainers/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/rng.h"
#include "layers/models/language_model.h"

namespace gau::trainers {

namespace {

// Uniform in [0, 1) with 53 random bits: draw `index` of the stream `seed`.
double uniform_draw(uint64_t seed, uint64_t index) {
  const Philox4 r = philox4x32_10(seed, index);
  const uint64_t bits = ((static_cast<uint64_t>(r.v[0]) << 32) | r.v[1]) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

// Row `row` of logits [1, m, V] as floats on the host.
std::vector<float> logits_row(const Tensor& logits, int64_t row) {
  const Tensor host = ops::contiguous(ops::to_dtype(ops::to_device(logits, Device::cpu()), DType::f32));
  const int64_t vocab = host.shape().back();
  const float* p = host.data<float>() + row * vocab;
  return std::vector<float>(p, p + vocab);
}

}  // namespace

void check_sampling(const Sampling& s) {
  GAU_CHECK(s.max_tokens >= 0, "sampling: max_tokens must be >= 0, got ", s.max_tokens);
  GAU_CHECK(std::isfinite(s.temperature) && s.temperature >= 0, "sampling: temperature must be a finite number >= 0, got ",
            s.temperature);
  GAU_CHECK(s.top_k >= 0, "sampling: top_k must be >= 0 (0: all), got ", s.top_k);
  GAU_CHECK(s.top_p > 0 && s.top_p <= 1, "sampling: top_p must be in (0, 1], got ", s.top_p);
}

int32_t sample_token(std::span<const float> logits, const Sampling& s, uint64_t index) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  GAU_CHECK(vocab > 0, "sample_token: no logits");
  if (s.temperature == 0)
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  // Ids by decreasing logit (ties: lower id first), then the top-k cut.
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  const size_t keep_k = s.top_k > 0 ? std::min<size_t>(static_cast<size_t>(s.top_k), order.size()) : order.size();
  order.resize(keep_k);
  std::vector<double> prob(order.size());
  const double top = static_cast<double>(logits[order[0]]) / s.temperature;
  double sum = 0;
  for (size_t i = 0; i < order.size(); ++i) sum += prob[i] = std::exp(logits[order[i]] / s.temperature - top);
  // The top-p cut: the smallest prefix whose probability reaches top_p.
  size_t keep = order.size();
  if (s.top_p < 1) {
    double cumulative = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      cumulative += prob[i] / sum;
      if (cumulative >= s.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += prob[i];
  const double u = uniform_draw(s.seed, index) * kept;
  double cumulative = 0;
  for (size_t i = 0; i < keep; ++i) {
    cumulative += prob[i];
    if (u < cumulative) return order[i];
  }
  return order[keep - 1];  // u rounded up to the total
}

Generated generate(layers::LanguageModel& lm, const std::vector<int32_t>& prompt, const Sampling& s, Device device) {
  check_sampling(s);
  const int64_t max_length = lm.options().max_length;
  const int64_t prompt_length = static_cast<int64_t>(prompt.size());
  GAU_CHECK(prompt_length >= 1, "generate: the prompt is empty; give at least one token");
  GAU_CHECK(prompt_length < max_length || (s.max_tokens == 0 && prompt_length == max_length),
            "generate: the prompt has ", prompt_length,
            " tokens, but the model's max_length is ", max_length, ": it leaves no room to generate");
  for (const int32_t id : prompt)
    GAU_CHECK(id >= 0 && id < lm.options().vocab, "generate: prompt token ", id, " is outside the vocabulary [0, ",
              lm.options().vocab, ")");
  const bool was_training = lm.is_training();
  lm.eval();
  NoGradGuard no_grad;
  const GeneratorStateGuard keep_rng(default_generator());
  const int64_t length = std::min(max_length, prompt_length + s.max_tokens);
  layers::LanguageModelCache cache = lm.start_decoding(1, length);
  Generated out;
  const std::vector<int64_t> prompt64(prompt.begin(), prompt.end());
  Tensor logits = lm.decode_logits(ops::from_vector(prompt64, {1, prompt_length}, device), cache);
  int64_t row = prompt_length - 1;
  for (int64_t t = 0; t < s.max_tokens; ++t) {
    if (cache.position >= length) {
      out.hit_max_length = true;
      break;
    }
    std::vector<float> scores = logits_row(logits, row);
    if (s.vocab_limit > 0 && static_cast<size_t>(s.vocab_limit) < scores.size())
      scores.resize(static_cast<size_t>(s.vocab_limit));
    const int32_t next = sample_token(scores, s, static_cast<uint64_t>(t));
    out.tokens.push_back(next);
    if (next == s.stop_id || t + 1 == s.max_tokens) break;
    logits = lm.decode_logits(ops::from_vector(std::vector<int64_t>{next}, {1, 1}, device), cache);
    row = 0;
  }
  lm.train(was_training);
  return out;
}

}  // namespace gau::trainers
