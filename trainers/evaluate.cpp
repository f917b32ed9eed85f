#include "trainers/evaluate.h"

#include "autograd/grad_mode.h"
#include "core/error.h"

namespace gau::trainers {

EvalResult evaluate(const Objective& objective, layers::Module& model, const data::Corpus& corpus,
                    data::LoaderOptions loader, const EvalOptions& options) {
  GAU_CHECK(!corpus.empty(), "evaluate: the corpus is empty");
  loader.shuffle = false;
  loader.drop_last = false;
  loader.partial_step_ok = true;  // a validation split smaller than one batch is still evaluated
  loader.prefetch = 0;
  loader.next_token_targets = objective.predicts_next_token();
  data::Loader batches(corpus, loader);
  const int64_t total = options.max_batches > 0 ? std::min(options.max_batches, batches.steps_per_epoch())
                                                : batches.steps_per_epoch();
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  const GeneratorStateGuard keep_rng(default_generator());
  Generator gen(options.seed);
  double nats = 0;
  EvalResult r;
  r.masked = !objective.predicts_next_token();
  if (options.on_batch) options.on_batch(0, total, 0, 0);
  for (int64_t i = 0; i < total; ++i) {
    const data::Batch batch = batches.next();
    // Filler rows only (this rank's share of a short split), or a masked LM's batch where nothing
    // was masked (its loss is 0 / 0): nothing to count.
    if (objective.expected_targets(batch) > 0) {
      const BatchLoss b = objective.loss(batch, options.device, gen);
      if (b.targets > 0) {
        nats += b.loss.item() * static_cast<double>(b.targets);
        r.targets += b.targets;
      }
    }
    if (options.on_batch)
      options.on_batch(i + 1, total, r.targets > 0 ? nats / static_cast<double>(r.targets) : 0, batch.num_tokens);
  }
  model.train(was_training);
  r.batches = total;
  r.loss = r.targets > 0 ? nats / static_cast<double>(r.targets) : 0;
  return r;
}

}  // namespace gau::trainers
