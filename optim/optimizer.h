#pragma once
// Optimizer: the base of every optimizer, built over a model's flat parameter buffers.
//
//   layers::FlatParameters flat(model, {.grad_dtype = DType::f32});
//   optim::Adam opt(flat, {.lr = 3e-4, .beta2 = 0.95, .weight_decay = 0.1, .decoupled = true},
//                   {.groups = {.no_decay = {"*.bias", "*norm*"}}});
//   for (...) { opt.zero_grad(); loss.backward(); opt.set_lr(schedule(opt.step_count())); opt.step(); }
//
// Each (dtype, device) group of the flat buffers gets a range table (optim/param_groups.h) and
// its state buffers, flat and at the parameters' offsets (Adafactor's factored moments aside).
// step() runs one fused kernel per group over all its ranges (optim/kernels.h).
//
// Master weights: for a bf16 or f16 group the optimizer keeps an f32 copy of the parameters
// (flat, same offsets) and its state in f32. Each step updates the master weights from the
// gradients (f32 or the parameters' dtype) and writes them back rounded into the parameters:
// to nearest even, or stochastically (options.stochastic_rounding: up with probability equal to
// the distance from the value below, from Philox keyed by (seed, element, step), so it is
// reproducible and resumes exactly). The master weights are the optimizer's state: they are
// initialised from the parameters at construction and restored by load_state_dict (the rounded
// parameters come with the model's own state); changing the parameters behind the optimizer's
// back afterwards is overwritten at the next step.
//
// state_dict() copies the state: step count, lr, hyperparameters, the layout it was made over and
// every state buffer ("groups.<i>.<buffer>", master weights as "groups.<i>.master"). Loading it
// into an optimizer of the same type over an identically laid-out model (same groups, dtypes,
// parameter names, offsets and sizes) continues bit for bit; anything else is an error naming
// what differs. Loading restores the step count and lr; the other hyperparameters stay as this
// optimizer was built (a resumed run may change them on purpose).
//
// Sharded (OptimizerOptions::shard, ZeRO-1): step() updates only the shard's elements, from the
// shard's gradients; the other elements of the parameters are left for the all-gather. Only the
// elementwise optimizers (sgd, adam, adamw, lion) shard: a shard may cut through a parameter,
// which LAMB's per-parameter trust ratio and Adafactor's per-matrix moments cannot. A sharded
// optimizer's state dict has the full layout and shard-sized tensors ([shard elements], element
// k at flat offset shard begin + k); distributed/zero.h gathers them into the unsharded form.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "layers/flat_parameters.h"
#include "optim/kernels.h"
#include "optim/param_groups.h"

namespace gau::optim {

// The piece of every flat group an optimizer updates, for ZeRO-1 (distributed/zero.h): shard
// `index` of `count` equal contiguous pieces of each group's buffer (FlatOptions::shards pads the
// buffers so that they split evenly). Its state and master weights cover that piece only.
struct Shard {
  int64_t index = 0;
  int64_t count = 1;
  // The piece's range in a buffer of `total` elements (a multiple of count).
  int64_t begin(int64_t total) const { return total / count * index; }
  int64_t end(int64_t total) const { return total / count * (index + 1); }
};

// Settings every optimizer shares.
struct OptimizerOptions {
  GroupRules groups;
  Shard shard;                       // the whole buffers by default
  bool stochastic_rounding = false;  // of the bf16/f16 copy of the master weights
  uint64_t seed = 0x5eed;            // the stochastic rounding's Philox key
};

// What a state dict was made over, for the layout check.
struct GroupLayout {
  DType dtype = DType::f32;
  int64_t total = 0;  // the flat buffer's packed elements (FlatGroup::packed: no ZeRO-1 padding)
  std::vector<std::string> names;
  std::vector<int64_t> offsets, numels;
  bool operator==(const GroupLayout&) const = default;
};

struct OptimizerState {
  std::string type;
  int64_t step = 0;
  double lr = 0;
  YAML::Node hyperparameters;
  std::vector<GroupLayout> layout;
  std::map<std::string, Tensor> tensors;  // "groups.<i>.<buffer>", copies on the buffers' device
};

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // "sgd", "adam", "adamw", "lamb", "adafactor", "lion".
  const std::string& type() const { return type_; }
  // One update of every parameter from its gradient; then step_count() is one more.
  void step();
  // Zeroes the gradients: one fill per flat group.
  void zero_grad() const { flat_.zero_grad(); }
  double lr() const { return lr_; }
  void set_lr(double lr);
  // The learning rate the last step applied, as metrics log it: lr() for all but Adafactor with
  // relative_step, where lr is a multiplier of the relative step ρ_t (optim/adafactor.h).
  virtual double step_size() const { return lr_; }
  // Steps taken (the t of bias corrections; 1 during the first step's update).
  int64_t step_count() const { return step_; }

  // The settings it was built with, as the config keys of optim/factory.h (groups and rounding
  // included): make_optimizer on them builds the same optimizer.
  YAML::Node hyperparameters() const;
  OptimizerState state_dict() const;
  void load_state_dict(const OptimizerState& state);
  // Bytes of optimizer state: moments, master weights and scratch, over all groups.
  int64_t state_bytes() const;

  // Per flat group (in FlatParameters::groups() order): its ranges, its f32 master weights
  // (undefined for an f32/f64 group) and a state buffer by name.
  size_t group_count() const { return groups_.size(); }
  const RangeTable& ranges(size_t group) const { return groups_.at(group).table; }
  const Tensor& master(size_t group) const { return groups_.at(group).master; }
  const Tensor& buffer(size_t group, const std::string& name) const;

 protected:
  struct Group {
    const layers::FlatGroup* flat = nullptr;
    DType compute = DType::f32;  // f64 for an f64 group, else f32: the dtype of state and master
    int64_t begin = 0, end = 0;  // the shard of the flat buffer it updates (all of it unsharded)
    Tensor master;               // [end - begin] f32, for bf16/f16 groups
    RangeTable table;            // offsets relative to begin
    int64_t numel() const { return end - begin; }
    std::vector<std::pair<std::string, Tensor>> buffers;  // zero-initialised state
  };

  // `merge_ranges`: adjacent parameters with equal settings share one range (elementwise
  // optimizers); otherwise one range per parameter, and no shard but the whole. Checks lr >= 0,
  // weight_decay >= 0 and that every group pattern matches a parameter.
  Optimizer(std::string type, layers::FlatParameters& flat, double lr, double weight_decay,
            const OptimizerOptions& options, bool merge_ranges);

  // The optimizer's own keys of hyperparameters() (type, lr and its hyperparameters).
  virtual YAML::Node settings() const = 0;
  // The group's update for step step_count(); scalars that depend on the step are computed here.
  virtual void update(Group& g) = 0;
  // A zeroed state buffer [numel] (g.numel() for state at the parameters' offsets) in the
  // group's compute dtype on its device, saved in the state dict.
  const Tensor& add_buffer(Group& g, const std::string& name, int64_t numel);
  // The group's buffer `name`, or an undefined tensor when it has none.
  static Tensor buffer_of(const Group& g, const std::string& name);
  std::vector<Group>& groups() { return groups_; }
  UpdateTarget target(const Group& g) const;
  const OptimizerOptions& options() const { return options_; }
  double weight_decay() const { return weight_decay_; }

 private:
  std::string type_;
  layers::FlatParameters& flat_;
  double lr_;
  double weight_decay_;
  OptimizerOptions options_;
  int64_t step_ = 0;
  std::vector<Group> groups_;
};

// Whether `d` is a valid beta (in [0, 1)), for the optimizers' checks.
inline bool valid_beta(double d) { return d >= 0 && d < 1; }

}  // namespace gau::optim
