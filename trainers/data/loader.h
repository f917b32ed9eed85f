#pragma once
// Loader: batches of token windows for one rank, shuffled per epoch, prefetched on a thread.
//
//   Loader train(dataset.train, options);       // options.rank / world_size from distributed/
//   Batch b = train.next();                     // b.ids [b, n], b.targets [b, n], ...
//   checkpoint["loader"] = b.position;          // JSON; after resuming: train.restore(position)
//
// Epoch e orders the corpus's windows (windows.h) by a seeded permutation (the identity without
// shuffle). Each step takes the next G = batch_size x world_size slots of that order; rank r
// reads slots [r*batch_size, (r+1)*batch_size) of them. So, across ranks, an epoch reads every
// window, hence every token, exactly once. All ranks take the same number of steps per epoch:
// in the last step, slots past the end are filler rows (ids pad_id, every target ignore_index,
// so they add nothing to the loss or its gradient) unless drop_last drops that step.
#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "trainers/data/corpus.h"
#include "trainers/data/loader_position.h"
#include "trainers/data/windows.h"

namespace gau::data {

template <typename T>
class Prefetcher;

struct LoaderOptions {
  int64_t seq_len = 256;
  int64_t batch_size = 8;  // rows per rank
  bool shuffle = true;
  uint64_t seed = 1;
  bool packing = true;
  bool mask_across_documents = false;
  bool drop_last = false;
  // Training needs one whole step of windows (batch_size x world_size); evaluation takes whatever
  // the split holds, its one step padded with filler rows.
  bool partial_step_ok = false;
  // Rows predict the next token (a causal LM): a window of one token without a next token has
  // no target and is left out (trainers/data/windows.h). A masked LM predicts the tokens
  // themselves, so keeps it.
  bool next_token_targets = true;
  int64_t prefetch = 2;  // batches made ahead on a background thread; 0 = made in next()
  int64_t rank = 0;
  int64_t world_size = 1;
  int32_t pad_id = 0;
  int64_t ignore_index = -100;  // ops::CrossEntropyOptions' default
  std::string name = "data";    // names the data in errors: "data.train (configs/x.yaml:12:3)"
};

struct Batch {
  Tensor ids;               // [b, n] i64
  Tensor targets;           // [b, n] i64: the next token, or ignore_index where there is no loss
  Tensor key_lengths;       // [b] i64: valid positions per row (padding after); undefined when all are full
  int64_t num_tokens = 0;   // valid input positions
  int64_t num_targets = 0;  // targets that are not ignore_index
  int64_t epoch = 0;        // the epoch this batch belongs to
  LoaderPosition position;  // the loader's position after this batch: save it with this step's checkpoint
};

class Loader {
 public:
  // Throws when the corpus cannot fill one step: it names the tokens there are and the
  // sequences a step needs.
  Loader(Corpus corpus, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  Batch next();
  // The position after the last batch next() returned (or the start, or the last restore()).
  LoaderPosition position() const { return position_; }
  // Continues from `p`, which must come from the same data (seed and window count are checked);
  // world_size and batch_size may differ: the next step starts at the first unread slot.
  void restore(const LoaderPosition& p);

  int64_t num_windows() const;
  int64_t steps_per_epoch() const;
  const LoaderOptions& options() const { return options_; }
  const Corpus& corpus() const { return corpus_; }

 private:
  class Maker;
  void start();
  void stop();

  Corpus corpus_;
  LoaderOptions options_;
  std::unique_ptr<Maker> maker_;
  LoaderPosition position_;
  std::unique_ptr<Prefetcher<Batch>> prefetcher_;  // null when options.prefetch is 0
};

}  // namespace gau::data
