#pragma once
// Evaluation: the mean loss of a model over a corpus, batch by batch in order (never shuffled),
// without gradients and in eval mode (no dropout), the model's mode and the default generator's
// position restored after, so evaluating inside a training run does not change its course.
//
//   EvalResult r = evaluate(objective, val_corpus, loader_options, {.max_batches = 20, .device = d});
//   r.loss, r.perplexity(), r.bits_per_token()
//
// The loss is weighted by counted targets, so the mean is over tokens, not batches: the same
// figure whatever the batch size. Bits per byte equal bits per token for a causal model over
// byte-level data, which predicts every byte from the ones before it; the trainer reports them
// under that name only then. A masked LM's targets are its masked tokens, each predicted from
// both sides: its bits per token are no compression rate of the text, and are labelled so.
#include <cmath>
#include <cstdint>
#include <functional>

#include "trainers/data/corpus.h"
#include "trainers/data/loader.h"
#include "trainers/objective.h"

namespace gau::trainers {

struct EvalResult {
  double loss = 0;      // mean cross-entropy in nats per counted target
  int64_t targets = 0;  // targets counted
  int64_t batches = 0;
  bool masked = false;  // a masked LM's: the targets are the masked tokens
  double perplexity() const { return std::exp(loss); }
  double bits_per_token() const { return loss / std::log(2.0); }
  // Whether bits_per_token() is the data's bits per byte (causal model, byte-level data).
  bool bits_per_byte(bool byte_level) const { return byte_level && !masked; }
  // "bits per byte", "bits per token" or "bits per masked token", for bits_per_token().
  const char* bits_unit(bool byte_level) const {
    return masked ? "bits per masked token" : byte_level ? "bits per byte" : "bits per token";
  }
  // "tokens" or "masked tokens", for targets.
  const char* targets_unit() const { return masked ? "masked tokens" : "tokens"; }
};

struct EvalOptions {
  int64_t max_batches = 0;  // 0: the whole corpus
  Device device = Device::cpu();
  uint64_t seed = 0;  // the MLM masks' generator, fixed so every evaluation masks alike
  // Called before the first batch (done = 0) and after each, with the batches done, of how many,
  // the mean loss so far and the batch's tokens (gau eval's progress); unset: nothing is called.
  std::function<void(int64_t done, int64_t total, double loss, int64_t tokens)> on_batch;
};

// `loader` describes how the corpus is cut into batches (shuffle and drop_last are ignored).
EvalResult evaluate(const Objective& objective, layers::Module& model, const data::Corpus& corpus,
                    data::LoaderOptions loader, const EvalOptions& options);

}  // namespace gau::trainers
