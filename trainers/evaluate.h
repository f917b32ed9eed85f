#pragma once
// Evaluation: the mean loss of a model over a corpus, batch by batch in order (never shuffled),
// without gradients and in eval mode (no dropout), the model's mode and the default generator's
// position restored after, so evaluating inside a training run does not change its course.
//
//   EvalResult r = evaluate(objective, val_corpus, loader_options, {.max_batches = 20, .device = d});
//   r.loss, r.perplexity(), r.bits_per_token()
//
// The loss is weighted by counted targets, so the mean is over tokens, not batches: the same
// figure whatever the batch size. Bits per byte equal bits per token for byte-level data; the
// trainer reports them under that name only then.
#include <cmath>
#include <cstdint>

#include "trainers/data/corpus.h"
#include "trainers/data/loader.h"
#include "trainers/objective.h"

namespace gau::trainers {

struct EvalResult {
  double loss = 0;      // mean cross-entropy in nats per counted target
  int64_t targets = 0;  // targets counted
  int64_t batches = 0;
  double perplexity() const { return std::exp(loss); }
  double bits_per_token() const { return loss / std::log(2.0); }
};

struct EvalOptions {
  int64_t max_batches = 0;  // 0: the whole corpus
  Device device = Device::cpu();
  uint64_t seed = 0;  // the MLM masks' generator, fixed so every evaluation masks alike
};

// `loader` describes how the corpus is cut into batches (shuffle and drop_last are ignored).
EvalResult evaluate(const Objective& objective, layers::Module& model, const data::Corpus& corpus,
                    data::LoaderOptions loader, const EvalOptions& options);

}  // namespace gau::trainers
