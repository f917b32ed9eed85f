#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"

namespace gau::optim {

namespace {

// Bytes of a host vector as a b8 tensor on `device`.
template <typename T>
Tensor upload(const std::vector<T>& v, Device device) {
  Tensor host = ops::empty({static_cast<int64_t>(v.size() * sizeof(T))}, DType::b8);
  if (!v.empty()) std::memcpy(host.data_ptr(), v.data(), v.size() * sizeof(T));
  return ops::to_device(host, device);
}

GroupLayout layout_of(const layers::FlatGroup& g) {
  GroupLayout l;
  l.dtype = g.dtype;
  l.total = g.packed;  // not the shards' padding: a layout does not depend on the world size
  for (const layers::FlatEntry& e : g.entries) {
    l.names.push_back(e.name);
    l.offsets.push_back(e.offset);
    l.numels.push_back(e.numel);
  }
  return l;
}

// What differs between two layouts of group `i`, in words.
std::string layout_difference(size_t i, const GroupLayout& saved, const GroupLayout& here) {
  const std::string at = "group " + std::to_string(i) + ": ";
  if (saved.dtype != here.dtype)
    return at + "the state is for " + dtype_name(saved.dtype) + " parameters, this model's are " +
           dtype_name(here.dtype);
  if (saved.names.size() != here.names.size())
    return at + "the state has " + std::to_string(saved.names.size()) + " parameters, this model " +
           std::to_string(here.names.size());
  for (size_t k = 0; k < saved.names.size(); ++k) {
    if (saved.names[k] != here.names[k])
      return at + "parameter " + std::to_string(k) + " is '" + saved.names[k] + "' in the state, '" + here.names[k] +
             "' in this model";
    if (saved.numels[k] != here.numels[k] || saved.offsets[k] != here.offsets[k])
      return at + "parameter '" + here.names[k] + "' has " + std::to_string(saved.numels[k]) + " elements at offset " +
             std::to_string(saved.offsets[k]) + " in the state, " + std::to_string(here.numels[k]) + " at offset " +
             std::to_string(here.offsets[k]) + " in this model";
  }
  return at + "the flat buffer has " + std::to_string(saved.total) + " elements in the state, " +
         std::to_string(here.total) + " in this model";
}

// The parts of `ranges` inside [begin, end), with offsets relative to begin.
std::vector<KernelRange> clip_to_shard(const std::vector<KernelRange>& ranges, int64_t begin, int64_t end) {
  std::vector<KernelRange> out;
  for (KernelRange r : ranges) {
    const int64_t lo = std::max(r.offset, begin), hi = std::min(r.offset + r.numel, end);
    if (lo >= hi) continue;
    r.offset = lo - begin;
    r.numel = hi - lo;
    out.push_back(r);
  }
  return out;
}

}  // namespace

RangeTable make_range_table(std::vector<KernelRange> ranges, Device device) {
  RangeTable t;
  for (size_t r = 0; r < ranges.size(); ++r) {
    KernelRange& kr = ranges[r];
    kr.first_chunk = static_cast<int64_t>(t.chunks.size());
    for (int64_t b = 0; b < kr.numel; b += kChunkElements)
      t.chunks.push_back({static_cast<int64_t>(r), kr.offset + b, kr.offset + std::min(kr.numel, b + kChunkElements)});
    kr.chunks = static_cast<int64_t>(t.chunks.size()) - kr.first_chunk;
  }
  t.ranges = std::move(ranges);
  if (device.is_cuda()) {
    t.device_ranges = upload(t.ranges, device);
    t.device_chunks = upload(t.chunks, device);
  }
  return t;
}

Optimizer::Optimizer(std::string type, layers::FlatParameters& flat, double lr, double weight_decay,
                     const OptimizerOptions& options, bool merge_ranges)
    : type_(std::move(type)), flat_(flat), lr_(lr), weight_decay_(weight_decay), options_(options) {
  GAU_CHECK(std::isfinite(lr) && lr >= 0, type_, ": lr must be >= 0, got ", lr);
  GAU_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, type_, ": weight_decay must be >= 0, got ", weight_decay);
  GAU_CHECK(!flat.groups().empty(), type_, ": the model has no parameters");
  GAU_CHECK(flat.bound(), type_, ": the flat buffers no longer hold the model's parameters (re-flattened or moved)");
  const std::vector<std::string> names = parameter_names(flat);
  const std::string unmatched = unmatched_pattern(options.groups, names);
  GAU_CHECK(unmatched.empty(), type_, ": group pattern '", unmatched, "' matches no parameter; parameters are ",
            some_parameter_names(names));
  const Shard& shard = options.shard;
  GAU_CHECK(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count, type_, ": shard ", shard.index, " of ",
            shard.count, " does not exist");
  GAU_CHECK(shard.count == 1 || merge_ranges, type_, ": its state cannot be sharded (ZeRO-1, here over ", shard.count,
            " ranks): a shard may cut through a parameter, and ", type_,
            " needs whole parameters (per-parameter norms or factored moments); use sgd, adam, adamw or lion, or "
            "distributed.zero: 0");
  for (const layers::FlatGroup& fg : flat.groups()) {
    GAU_CHECK(is_floating(fg.dtype), type_, ": cannot optimise ", dtype_name(fg.dtype), " parameters");
    const int64_t total = fg.params.numel();
    GAU_CHECK(total % shard.count == 0, type_, ": a flat buffer of ", total, " elements does not split into ",
              shard.count, " equal shards; flatten with FlatOptions::shards = ", shard.count);
    Group g;
    g.flat = &fg;
    g.begin = shard.begin(total);
    g.end = shard.end(total);
    g.compute = fg.dtype == DType::f64 ? DType::f64 : DType::f32;
    if (fg.dtype == DType::bf16 || fg.dtype == DType::f16)
      g.master = ops::to_dtype(ops::slice(fg.params, 0, g.begin, g.end), DType::f32);
    g.table = make_range_table(
        clip_to_shard(group_ranges(fg, options.groups, weight_decay, merge_ranges), g.begin, g.end), fg.device);
    groups_.push_back(std::move(g));
  }
}

Optimizer::~Optimizer() = default;

void Optimizer::set_lr(double lr) {
  GAU_CHECK(std::isfinite(lr) && lr >= 0, type_, ": lr must be >= 0, got ", lr);
  lr_ = lr;
}

void Optimizer::step() {
  GAU_CHECK(flat_.bound(), type_,
            ": the flat buffers no longer hold the model's parameters (re-flattened or moved); build the optimizer "
            "over the new FlatParameters");
  ++step_;
  for (Group& g : groups_) update(g);
  for (const Group& g : groups_) g.flat->params.bump_version();
}

const Tensor& Optimizer::add_buffer(Group& g, const std::string& name, int64_t numel) {
  g.buffers.emplace_back(name, ops::zeros({numel}, g.compute, g.flat->device));
  return g.buffers.back().second;
}

Tensor Optimizer::buffer_of(const Group& g, const std::string& name) {
  for (const auto& [n, t] : g.buffers)
    if (n == name) return t;
  return Tensor();
}

const Tensor& Optimizer::buffer(size_t group, const std::string& name) const {
  for (const auto& [n, t] : groups_.at(group).buffers)
    if (n == name) return t;
  GAU_FAIL(type_, ": no state buffer '", name, "'");
}

UpdateTarget Optimizer::target(const Group& g) const {
  UpdateTarget t;
  const Tensor params = ops::slice(g.flat->params, 0, g.begin, g.end);
  t.w = g.master.defined() ? g.master : params;
  if (g.master.defined()) t.copy = params;
  t.g = ops::slice(g.flat->grads, 0, g.begin, g.end);
  t.stochastic_rounding = options_.stochastic_rounding;
  t.seed = options_.seed;
  t.step = static_cast<uint64_t>(step_);
  return t;
}

int64_t Optimizer::state_bytes() const {
  int64_t bytes = 0;
  for (const Group& g : groups_) {
    if (g.master.defined()) bytes += static_cast<int64_t>(g.master.nbytes());
    for (const auto& [n, t] : g.buffers) bytes += static_cast<int64_t>(t.nbytes());
  }
  return bytes;
}

YAML::Node Optimizer::hyperparameters() const {
  YAML::Node n = settings();
  YAML::Node no_decay(YAML::NodeType::Sequence), multipliers(YAML::NodeType::Map);
  for (const std::string& p : options_.groups.no_decay) no_decay.push_back(p);
  for (const auto& [p, m] : options_.groups.lr_multipliers) multipliers[p] = m;
  n["no_decay"] = no_decay;
  n["lr_multipliers"] = multipliers;
  n["stochastic_rounding"] = options_.stochastic_rounding;
  n["seed"] = options_.seed;
  return n;
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState s;
  s.type = type_;
  s.step = step_;
  s.lr = lr_;
  s.hyperparameters = hyperparameters();
  for (size_t i = 0; i < groups_.size(); ++i) {
    const Group& g = groups_[i];
    s.layout.push_back(layout_of(*g.flat));
    const std::string prefix = "groups." + std::to_string(i) + ".";
    if (g.master.defined()) s.tensors[prefix + "master"] = ops::clone(g.master);
    for (const auto& [n, t] : g.buffers) s.tensors[prefix + n] = ops::clone(t);
  }
  return s;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  GAU_CHECK(state.type == type_, type_, ": load_state_dict was given the state of a '", state.type, "' optimizer");
  GAU_CHECK(state.layout.size() == groups_.size(), type_, ": the state has ", state.layout.size(),
            " flat parameter groups, this model ", groups_.size());
  for (size_t i = 0; i < groups_.size(); ++i) {
    const GroupLayout here = layout_of(*groups_[i].flat);
    GAU_CHECK(state.layout[i] == here, type_,
              ": the state was saved over a different model layout: ", layout_difference(i, state.layout[i], here));
  }
  // Every buffer is present with its shape and dtype before anything is copied.
  std::set<std::string> expected;
  for (size_t i = 0; i < groups_.size(); ++i) {
    const Group& g = groups_[i];
    const std::string prefix = "groups." + std::to_string(i) + ".";
    std::vector<std::pair<std::string, Tensor>> all = g.buffers;
    if (g.master.defined()) all.emplace_back("master", g.master);
    for (const auto& [n, t] : all) {
      const auto it = state.tensors.find(prefix + n);
      GAU_CHECK(it != state.tensors.end(), type_, ": the state has no '", prefix + n, "'");
      GAU_CHECK(it->second.shape() == t.shape() && it->second.dtype() == t.dtype(), type_, ": state '", prefix + n,
                "' is ", describe(it->second), ", expected ", describe(t));
      expected.insert(prefix + n);
    }
  }
  for (const auto& [n, t] : state.tensors)
    GAU_CHECK(expected.count(n), type_, ": the state has an unexpected buffer '", n, "'");
  for (size_t i = 0; i < groups_.size(); ++i) {
    Group& g = groups_[i];
    const std::string prefix = "groups." + std::to_string(i) + ".";
    for (auto& [n, t] : g.buffers) ops::copy_(t, state.tensors.at(prefix + n));
    if (g.master.defined()) ops::copy_(g.master, state.tensors.at(prefix + "master"));
  }
  step_ = state.step;
  set_lr(state.lr);
}

}  // namespace gau::optim
