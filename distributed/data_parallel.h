#pragma once
// DataParallel: the same model on every rank, each rank on its own shard of the data, gradients
// averaged across ranks during backward.
//
//   DataParallel dp(comm, flat, config_text, {.bucket_mb = 25});   // checks, broadcasts
//   dp.start_backward(/*sync=*/is_last_micro_batch);
//   loss.backward();      // each gradient bucket's all-reduce starts as soon as it is final
//   dp.finish_backward(); // waits for them all: every rank now holds the same summed gradients
//
// At construction every rank checks, with one all_gather, that all ranks have the same config
// and the same parameter layout (names, dtypes, offsets, sizes); a mismatch is an error raised on
// every rank alike, naming the ranks that differ, so none is left waiting. Then rank 0's
// parameters are broadcast, so all ranks start from the same weights whatever their seeds.
//
// Buckets: each flat gradient buffer (layers/flat_parameters.h) is cut into contiguous ranges of
// about bucket_mb, whole parameters each, from the buffer's end back to its start: backward
// finishes the last layers' gradients first, so the first bucket fills first. A
// post-accumulate hook on every parameter (autograd/meta.h) counts down its bucket; a full bucket
// is all-reduced at once, while backward goes on with earlier layers. Buckets start strictly in
// order (bucket i only after buckets 0..i-1), so every rank issues the same collectives in the
// same order even if its backward visits parameters in another order; finish_backward starts any
// bucket still waiting (a parameter that this backward did not reach keeps a zero gradient).
//
// The reduction is a sum: the trainer weighs each rank's loss by its share of the global token
// count (optim/accumulation.h's rule across ranks), so the sum is the gradient of the mean over
// all ranks' tokens. With gradient accumulation only the last micro-batch synchronises
// (start_backward(false) leaves the hooks idle and the gradients accumulate locally).
//
// ZeRO-1 (reduce_to_shard_owners, distributed/zero.h): rank r updates only shard r of each flat
// buffer, so a bucket is reduced rather than all-reduced: each piece of it that lies in shard r
// goes to rank r alone, at the same moment in backward an all-reduce would start. After
// finish_backward rank r's shard holds the sum; the rest of its buffer keeps its own gradients.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "layers/flat_parameters.h"

namespace gau::distributed {

struct DataParallelOptions {
  double bucket_mb = 25;
  // ZeRO-1: each rank receives the sum of its shard only (the flat buffers must split into
  // world_size equal pieces: FlatOptions::shards).
  bool reduce_to_shard_owners = false;
};

// A contiguous range of one flat group's gradient buffer.
struct GradBucket {
  size_t group = 0;       // index into FlatParameters::groups()
  int64_t begin = 0;      // elements
  int64_t end = 0;
  int64_t parameters = 0; // parameters whose gradient it holds
};

class DataParallel {
 public:
  DataParallel(std::shared_ptr<Communicator> comm, layers::FlatParameters& flat,
               const std::string& config_text, const DataParallelOptions& options = {});
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // Before a backward: `sync` arms the hooks (the last micro-batch of a step); otherwise the
  // gradients only accumulate.
  void start_backward(bool sync);
  // After a synchronising backward: starts the buckets not yet started and waits for all.
  void finish_backward();

  const std::vector<GradBucket>& buckets() const;
  // The order in which this step's buckets were started, each with how many parameter hooks had
  // fired by then: for the overlap test and for debugging.
  struct Launch {
    size_t bucket;
    int64_t hooks_fired;
  };
  const std::vector<Launch>& launches() const;
  int64_t hooks_total() const;
  Communicator& communicator() const { return *comm_; }

 private:
  struct State;
  std::shared_ptr<Communicator> comm_;
  std::shared_ptr<State> state_;  // shared with the hooks, which outlive no one but may outlive this
};

// A 64-bit fingerprint of a parameter layout (names, dtypes, offsets, sizes): equal layouts give
// equal fingerprints on every machine.
uint64_t layout_fingerprint(const layers::FlatParameters& flat);
// FNV-1a over `text`.
uint64_t text_fingerprint(const std::string& text);

}  // namespace gau::distributed
