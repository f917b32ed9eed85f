#include "distributed/data_parallel.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "autograd/meta.h"
#include "core/error.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "distributed/broadcast_text.h"
#include "optim/optimizer.h"

namespace gau::distributed {

namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL, kFnvPrime = 1099511628211ULL;

uint64_t fnv_mix(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

}  // namespace

uint64_t text_fingerprint(const std::string& text) { return fnv_mix(kFnvOffset, text.data(), text.size()); }

uint64_t layout_fingerprint(const layers::FlatParameters& flat) {
  uint64_t h = kFnvOffset;
  for (const layers::FlatGroup& g : flat.groups()) {
    const std::string dtype = dtype_name(g.dtype);
    h = fnv_mix(h, dtype.data(), dtype.size() + 1);
    for (const layers::FlatEntry& e : g.entries) {
      h = fnv_mix(h, e.name.data(), e.name.size() + 1);
      h = fnv_mix(h, &e.offset, sizeof e.offset);
      h = fnv_mix(h, &e.numel, sizeof e.numel);
    }
  }
  return h;
}

struct DataParallel::State {
  Communicator* comm = nullptr;
  const layers::FlatParameters* flat = nullptr;
  std::vector<GradBucket> buckets;
  std::vector<int64_t> pending;  // per bucket: hooks still to fire this backward
  std::vector<std::unique_ptr<Work>> works;
  size_t next_launch = 0;  // buckets [0, next_launch) are started
  bool armed = false;
  bool to_shard_owners = false;
  int64_t hooks_fired = 0, hooks_total = 0;
  std::vector<Launch> launches;

  void launch(size_t b) {
    const GradBucket& bucket = buckets[b];
    const Tensor& grads = flat->groups()[bucket.group].grads;
    if (!to_shard_owners) {
      works.push_back(comm->all_reduce(ops::slice(grads, 0, bucket.begin, bucket.end), ReduceOp::sum));
    } else {
      for (int owner = 0; owner < comm->world_size(); ++owner) {
        const optim::Shard shard{.index = owner, .count = comm->world_size()};
        const int64_t begin = std::max(bucket.begin, shard.begin(grads.numel()));
        const int64_t end = std::min(bucket.end, shard.end(grads.numel()));
        if (begin < end) works.push_back(comm->reduce(ops::slice(grads, 0, begin, end), owner, ReduceOp::sum));
      }
    }
    launches.push_back({b, hooks_fired});
  }
  // Starts every bucket that is full and has all earlier buckets started.
  void launch_ready() {
    while (next_launch < buckets.size() && pending[next_launch] == 0) launch(next_launch++);
  }
  void on_grad_ready(size_t b) {
    if (!armed) return;
    ++hooks_fired;
    GAU_CHECK(pending[b] > 0, "DataParallel: a parameter of gradient bucket ", b,
              " reported its gradient twice in one backward");
    --pending[b];
    launch_ready();
  }
};

namespace {

// Buckets of about `bytes` per flat group, built from each group's last parameter back to its
// first; a parameter larger than `bytes` is a bucket of its own. Returns the bucket of every
// parameter (by group, entry index).
std::vector<GradBucket> make_buckets(const layers::FlatParameters& flat, int64_t bytes,
                                     std::vector<std::vector<size_t>>& bucket_of) {
  std::vector<GradBucket> buckets;
  bucket_of.assign(flat.groups().size(), {});
  for (size_t gi = flat.groups().size(); gi-- > 0;) {
    const layers::FlatGroup& g = flat.groups()[gi];
    const int64_t element = static_cast<int64_t>(g.grads.element_size());
    bucket_of[gi].assign(g.entries.size(), 0);
    GradBucket current{.group = gi, .begin = g.grads.numel(), .end = g.grads.numel()};
    for (size_t ei = g.entries.size(); ei-- > 0;) {
      const layers::FlatEntry& e = g.entries[ei];
      if (current.parameters > 0 && (current.end - e.offset) * element > bytes) {
        buckets.push_back(current);
        current = GradBucket{.group = gi, .begin = current.begin, .end = current.begin};
      }
      // The bucket reaches down to this parameter's start: the alignment gap after it is zero
      // on every rank, so reducing it is harmless and keeps the buckets back to back.
      current.begin = ei == 0 ? 0 : e.offset;
      ++current.parameters;
      bucket_of[gi][ei] = buckets.size();
    }
    if (current.parameters > 0) buckets.push_back(current);
  }
  return buckets;
}

// "; first at line 12 of the resolved config: rank 0 has 'lr: 0.003', rank 1 'lr: 0.001'".
std::string first_difference(const std::string& a, const std::string& b, int rank_b) {
  std::istringstream in_a(a), in_b(b);
  std::string line_a, line_b;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(in_a, line_a));
    const bool more_b = static_cast<bool>(std::getline(in_b, line_b));
    if (!more_a && !more_b) return "";
    if (more_a && more_b && line_a == line_b) continue;
    auto shown = [](bool more, const std::string& l) {
      const size_t text = l.find_first_not_of(' ');
      return more ? "'" + (text == std::string::npos ? l : l.substr(text)) + "'" : std::string("nothing (its config ends)");
    };
    return "; first at line " + std::to_string(line) + " of the resolved config: rank 0 has " +
           shown(more_a, line_a) + ", rank " + std::to_string(rank_b) + " " + shown(more_b, line_b);
  }
}

}  // namespace

DataParallel::DataParallel(std::shared_ptr<Communicator> comm, layers::FlatParameters& flat,
                           const std::string& config_text, const DataParallelOptions& options)
    : comm_(std::move(comm)), state_(std::make_shared<State>()) {
  GAU_CHECK(comm_ != nullptr, "DataParallel: no communicator");
  GAU_CHECK(options.bucket_mb > 0, "DataParallel: bucket_mb must be > 0, got ", options.bucket_mb);
  const int world = comm_->world_size();
  if (options.reduce_to_shard_owners)
    for (const layers::FlatGroup& g : flat.groups())
      GAU_CHECK(g.grads.numel() % world == 0, "DataParallel: ZeRO-1 needs flat buffers that split into ", world,
                " equal shards, but a ", dtype_name(g.dtype), " buffer has ", g.grads.numel(),
                " elements; flatten with FlatOptions::shards = ", world);

  // Every rank's config and layout fingerprints, side by side: a mismatch fails on every rank.
  const std::vector<int64_t> mine = {static_cast<int64_t>(text_fingerprint(config_text)),
                                     static_cast<int64_t>(layout_fingerprint(flat))};
  Tensor all = ops::zeros({2 * world}, DType::i64, comm_->device());
  comm_->all_gather(all, ops::from_vector(mine, {2}, comm_->device()))->wait();
  const Tensor host = ops::to_device(all, Device::cpu());
  const int64_t* f = host.data<int64_t>();
  std::string config_differs, layout_differs;
  for (int r = 1; r < world; ++r) {
    if (f[2 * r] != f[0]) config_differs += (config_differs.empty() ? "" : ", ") + std::to_string(r);
    if (f[2 * r + 1] != f[1]) layout_differs += (layout_differs.empty() ? "" : ", ") + std::to_string(r);
  }
  if (!config_differs.empty()) {
    // Every rank learns rank 0's config and the first differing rank's, so that each one's
    // message (whichever aborts first is shown) names the same first difference.
    const int other = std::stoi(config_differs.substr(0, config_differs.find(',')));
    const std::string first = broadcast_text(*comm_, config_text, 0);
    const std::string second = broadcast_text(*comm_, config_text, other);
    GAU_FAIL("data parallel: the resolved config of rank(s) ", config_differs, " differs from rank 0's",
             first_difference(first, second, other),
             "; every rank must train the same config (check --set flags and the files each node reads)");
  }
  GAU_CHECK(layout_differs.empty(), "data parallel: the parameter layout of rank(s) ",
            layout_differs, " differs from rank 0's (another gau version or model)");

  for (const layers::FlatGroup& g : flat.groups()) comm_->broadcast(g.params, 0)->wait();

  State& s = *state_;
  s.comm = comm_.get();
  s.flat = &flat;
  s.to_shard_owners = options.reduce_to_shard_owners;
  std::vector<std::vector<size_t>> bucket_of;
  s.buckets = make_buckets(flat, static_cast<int64_t>(options.bucket_mb * 1024 * 1024), bucket_of);
  s.pending.assign(s.buckets.size(), 0);
  std::weak_ptr<State> weak = state_;
  for (size_t gi = 0; gi < flat.groups().size(); ++gi)
    for (size_t ei = 0; ei < flat.groups()[gi].entries.size(); ++ei) {
      const size_t b = bucket_of[gi][ei];
      autograd::register_post_accumulate_hook(flat.groups()[gi].entries[ei].param, [weak, b](const Tensor&) {
        if (auto state = weak.lock()) state->on_grad_ready(b);
      });
      ++s.hooks_total;
    }
}

DataParallel::~DataParallel() = default;

void DataParallel::start_backward(bool sync) {
  State& s = *state_;
  s.armed = sync && comm_->world_size() > 1;
  s.hooks_fired = 0;
  s.next_launch = 0;
  s.launches.clear();
  s.works.clear();
  for (size_t b = 0; b < s.buckets.size(); ++b) s.pending[b] = s.buckets[b].parameters;
}

void DataParallel::finish_backward() {
  State& s = *state_;
  if (!s.armed) return;
  while (s.next_launch < s.buckets.size()) s.launch(s.next_launch++);
  for (auto& w : s.works) w->wait();
  s.works.clear();
  s.armed = false;
}

const std::vector<GradBucket>& DataParallel::buckets() const { return state_->buckets; }
const std::vector<DataParallel::Launch>& DataParallel::launches() const { return state_->launches; }
int64_t DataParallel::hooks_total() const { return state_->hooks_total; }

}  // namespace gau::distributed
