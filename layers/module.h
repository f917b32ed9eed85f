#pragma once
// Module: the base of every layer and model. It holds named parameters, buffers and child
// modules in registration order, and gives them hierarchical names ("blocks.3.gau.w_in.weight").
//
//   class Linear : public Module {
//    public:
//     Linear(int64_t in, int64_t out) : Module("Linear") {
//       weight_ = register_parameter("weight", ops::empty({out, in}));
//     }
//    private:
//     Tensor weight_;  // a handle to the registered parameter: it stays valid through to() and
//   };                 // flattening, which rebind the shared TensorImpl in place (layers/rebind.h)
//
// Parameters are leaf tensors that require grad. Buffers are tensors a layer keeps but does not
// train (RoPE tables, running statistics); persistent ones go into the state dict, the others are
// recomputed by the layer. A tensor registered twice (a weight tied between an embedding and the
// output projection) is one parameter: parameters() and named_parameters() list it once, under
// the first name in traversal order, while the state dict has it under every name.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace gau::layers {

// Parameters and persistent buffers by hierarchical name.
using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  // `type_name` is what summaries and errors call the layer ("Linear").
  explicit Module(std::string type_name);
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& type_name() const { return type_name_; }
  // Where the module is in its config ("model.blocks[2].proj") when the registry built it, else
  // its name under its parent; "" for a root built in C++.
  const std::string& path() const { return path_; }
  // Sets the config path (the registry does); children named in C++ follow it ("<path>.w_in").
  void set_path(const std::string& path) { assign_path(path, true); }
  // "Linear 'model.blocks[2].proj'" (or "Linear" without a path): how messages name the layer.
  std::string where() const;

  // The single-input forward, x -> y, of a layer that has one (activations or token ids in, one
  // tensor out). It is the uniform hook through which the registry test runs every layer; layers
  // with other signatures add their own overloads and keep this one throwing.
  virtual Tensor forward(const Tensor& x);

  // ---- registration, from a layer's constructor ----
  // Makes `value` a parameter (a floating leaf, now requiring grad) and returns it.
  Tensor register_parameter(const std::string& name, Tensor value);
  // Registers a buffer; a persistent one is part of the state dict.
  Tensor register_buffer(const std::string& name, Tensor value, bool persistent = true);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }

  // ---- traversal, in registration order, own entries before children's ----
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;  // persistent or not
  std::vector<std::shared_ptr<Module>> children() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module (named "") and every descendant, depth first.
  std::vector<std::pair<std::string, const Module*>> named_modules() const;

  // ---- modes (recursive) ----
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves every parameter and buffer to `device` and casts the floating ones to `dtype`, in
  // place (rebind), so layer members stay valid; parameters keep requires_grad, and a gradient
  // moves with its parameter (cast to the parameter's new dtype when one is given). Moving a
  // flattened model gives each tensor its own storage: flatten again afterwards.
  void to(Device device, std::optional<DType> dtype = std::nullopt);

  // Parameters and persistent buffers under their hierarchical names; the tensors share storage
  // with the model (detached handles, as PyTorch's state_dict).
  StateDict state_dict() const;
  // Copies `dict` into the model. Strict: one gau::Error lists every missing key, every
  // unexpected key and every shape or dtype mismatch (with both tensors), and nothing is copied
  // then. Tensors may come from another device.
  void load_state_dict(const StateDict& dict);

  // Elements of all parameters (tied ones once).
  int64_t parameter_count() const;

  // The config the module was built from (defaults filled in, so that it rebuilds the same
  // module through the registry); empty for a module built in C++ unless set.
  const YAML::Node& config() const { return config_; }
  void set_config(YAML::Node config) { config_ = std::move(config); }

 private:
  struct Entry {
    std::string name;
    Tensor tensor;
    bool persistent = true;
  };
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void assign_path(const std::string& path, bool from_config);
  template <typename F>
  void visit(const std::string& prefix, F&& f) const;

  std::string type_name_;
  std::string path_;
  bool path_from_config_ = false;
  bool training_ = true;
  std::vector<Entry> params_;
  std::vector<Entry> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  YAML::Node config_;
};

}  // namespace gau::layers
