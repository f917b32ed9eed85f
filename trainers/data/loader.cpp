#include "trainers/data/loader.h"

#include <numeric>

#include "core/error.h"
#include "core/ops/factory.h"
#include "trainers/data/prefetcher.h"
#include "trainers/data/random.h"

namespace gau::data {

void to_json(nlohmann::json& j, const LoaderPosition& p) {
  j = nlohmann::json{{"epoch", p.epoch}, {"index", p.index}, {"seed", p.seed}, {"num_windows", p.num_windows}};
}

void from_json(const nlohmann::json& j, LoaderPosition& p) {
  try {
    p.epoch = j.at("epoch").get<int64_t>();
    p.index = j.at("index").get<int64_t>();
    p.seed = j.at("seed").get<uint64_t>();
    p.num_windows = j.at("num_windows").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    GAU_FAIL("loader position: expected {epoch, index, seed, num_windows} integers, got ", j.dump(), ": ", e.what());
  }
}

// Makes the batch at a position; used by one thread at a time (the prefetch thread, or next()).
class Loader::Maker {
 public:
  Maker(const Corpus& corpus, const LoaderOptions& o)
      : corpus_(corpus),
        opt_(o),
        windows_(corpus, o.seq_len, o.packing, o.next_token_targets),
        global_(o.batch_size * o.world_size) {
    rule_ = {o.packing, o.mask_across_documents, o.pad_id, o.ignore_index};
    pos_.seed = o.seed;
    pos_.num_windows = windows_.size();
  }

  int64_t num_windows() const { return windows_.size(); }
  int64_t steps_per_epoch() const {
    return opt_.drop_last ? num_windows() / global_ : (num_windows() + global_ - 1) / global_;
  }
  void seek(const LoaderPosition& p) {
    pos_ = p;
    roll_over(pos_);
  }

  Batch next() {
    const int64_t b = opt_.batch_size, n = opt_.seq_len, total = num_windows();
    const std::vector<int64_t>& order = order_for(pos_.epoch);
    Batch batch;
    batch.ids = Tensor::empty({b, n}, DType::i64);
    batch.targets = Tensor::empty({b, n}, DType::i64);
    int64_t* ids = batch.ids.data<int64_t>();
    int64_t* targets = batch.targets.data<int64_t>();
    std::vector<int64_t> lengths(static_cast<size_t>(b), n);
    bool padded = false;
    for (int64_t r = 0; r < b; ++r) {
      const int64_t slot = pos_.index + opt_.rank * b + r;
      if (slot >= total) {
        std::fill(ids + r * n, ids + (r + 1) * n, opt_.pad_id);
        std::fill(targets + r * n, targets + (r + 1) * n, opt_.ignore_index);
        continue;
      }
      const Window w = windows_[order.empty() ? slot : order[static_cast<size_t>(slot)]];
      batch.num_targets += fill_row(corpus_, w, n, rule_, scratch_, ids + r * n, targets + r * n);
      batch.num_tokens += w.length;
      lengths[static_cast<size_t>(r)] = w.length;
      padded = padded || w.length < n;
    }
    if (padded) batch.key_lengths = ops::from_vector<int64_t>(lengths, {b});
    batch.epoch = pos_.epoch;
    pos_.index += global_;
    roll_over(pos_);
    batch.position = pos_;
    return batch;
  }

 private:
  // A position past the epoch's last step is the start of the next epoch.
  void roll_over(LoaderPosition& p) const {
    const int64_t total = num_windows();
    const bool ended = opt_.drop_last ? p.index + global_ > total : p.index >= total;
    if (ended) ++p.epoch, p.index = 0;
  }

  // Epoch e's permutation of the windows: Fisher-Yates on the draws of stream (seed, e). Empty
  // without shuffling (the identity).
  const std::vector<int64_t>& order_for(int64_t epoch) {
    if (!opt_.shuffle || order_epoch_ == epoch) return order_;
    order_.resize(static_cast<size_t>(num_windows()));
    std::iota(order_.begin(), order_.end(), 0);
    DrawStream draw(opt_.seed, kShuffleStream + static_cast<uint64_t>(epoch));
    for (int64_t i = num_windows() - 1; i > 0; --i)
      std::swap(order_[static_cast<size_t>(i)], order_[draw.below(static_cast<uint64_t>(i) + 1)]);
    order_epoch_ = epoch;
    return order_;
  }

  const Corpus& corpus_;
  const LoaderOptions& opt_;
  Windows windows_;
  int64_t global_;
  RowRule rule_;
  LoaderPosition pos_;
  std::vector<int64_t> order_;
  int64_t order_epoch_ = -1;
  std::vector<int32_t> scratch_;
};

Loader::Loader(Corpus corpus, LoaderOptions options) : corpus_(std::move(corpus)), options_(std::move(options)) {
  const LoaderOptions& o = options_;
  GAU_CHECK(o.seq_len >= 1 && o.batch_size >= 1 && o.world_size >= 1 && o.rank >= 0 && o.rank < o.world_size &&
                o.prefetch >= 0,
            o.name, ": loader options out of range: seq_len ", o.seq_len, " (>= 1), batch_size ", o.batch_size,
            " (>= 1), rank ", o.rank, " of world_size ", o.world_size, ", prefetch ", o.prefetch, " (>= 0)");
  maker_ = std::make_unique<Maker>(corpus_, options_);
  const bool partial = o.partial_step_ok && !o.drop_last;
  // An evaluation takes a split with no window (one token, nothing to predict) and counts no target.
  const int64_t need = partial ? 0 : o.batch_size * o.world_size;
  if (num_windows() < need) {
    auto count = [](int64_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
    std::string needs = "one step needs batch_size " + std::to_string(o.batch_size) + " x world_size " +
                        std::to_string(o.world_size) + " = " + count(need, "sequence");
    // The last window must start before the stream's last token when that token has no target.
    const int64_t tokens = (need - 1) * o.seq_len + (o.next_token_targets ? 2 : 1);
    if (o.packing) needs += ", i.e. at least " + count(tokens, "token");
    GAU_FAIL(o.name, ": too little data in ", corpus_.describe(), ": ", count(corpus_.size(), "token"), " in ",
             count(corpus_.num_documents(), "document"), " make ", count(num_windows(), "sequence"),
             " of up to seq_len ", o.seq_len, " (packing ", o.packing ? "on" : "off", "), but ",
             needs,
             o.name.starts_with("data.val")
                 ? "; hold out more (data.val_fraction), give a data.val_path, or use a smaller seq_len or batch_size"
                 : "; use more data, or a smaller seq_len or batch_size");
  }
  position_.seed = o.seed;
  position_.num_windows = num_windows();
  start();
}

Loader::~Loader() { stop(); }

int64_t Loader::num_windows() const { return maker_->num_windows(); }
int64_t Loader::steps_per_epoch() const { return maker_->steps_per_epoch(); }

void Loader::start() {
  if (options_.prefetch > 0)
    prefetcher_ =
        std::make_unique<Prefetcher<Batch>>([this] { return maker_->next(); }, static_cast<size_t>(options_.prefetch));
}

void Loader::stop() { prefetcher_.reset(); }

Batch Loader::next() {
  Batch b = prefetcher_ ? prefetcher_->next() : maker_->next();
  position_ = b.position;
  return b;
}

void Loader::restore(const LoaderPosition& p) {
  GAU_CHECK(p.seed == options_.seed && p.num_windows == num_windows(), options_.name,
            ": the saved loader position (seed ", p.seed, ", ", p.num_windows,
            " sequences per epoch) is not from this data (seed ", options_.seed, ", ", num_windows(),
            " sequences of seq_len ", options_.seq_len, "): the data, seq_len, packing or seed changed");
  GAU_CHECK(p.epoch >= 0 && p.index >= 0 && p.index < num_windows(), options_.name,
            ": the saved loader position (epoch ", p.epoch, ", index ", p.index, ") is outside the ", num_windows(),
            " sequences of an epoch");
  stop();
  maker_->seek(p);
  position_ = p;
  start();
}

}  // namespace gau::data
