#include "layers/module.h"

#include <set>
#include <sstream>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "layers/rebind.h"

namespace gau::layers {

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

}  // namespace

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

Module::~Module() = default;

std::string Module::where() const { return path_.empty() ? type_name_ : type_name_ + " '" + path_ + "'"; }

Tensor Module::forward(const Tensor& x) {
  GAU_FAIL(where(), " has no single-input forward(x); call its own forward (given ", describe(x), ")");
}

void Module::check_new_name(const std::string& name, const char* what) const {
  GAU_CHECK(!name.empty() && name.find('.') == std::string::npos, where(), ": ", what, " name '", name,
            "' must be non-empty and contain no '.' (dots separate the levels of a hierarchical name)");
  auto taken = [&](const auto& list) {
    for (const auto& e : list)
      if (e.first == name) return true;
    return false;
  };
  bool dup = taken(children_);
  for (const Entry& e : params_) dup = dup || e.name == name;
  for (const Entry& e : buffers_) dup = dup || e.name == name;
  GAU_CHECK(!dup, where(), ": cannot register ", what, " '", name, "': the name is already taken");
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name, "parameter");
  GAU_CHECK(value.defined(), where(), ": parameter '", name, "' is an undefined tensor");
  GAU_CHECK(is_floating(value.dtype()), where(), ": parameter '", name, "' must be floating, got ", describe(value));
  GAU_CHECK(value.is_leaf(), where(), ": parameter '", name, "' (", describe(value),
            ") is the output of an op; register a leaf (value.detach())");
  value.requires_grad_(true);
  params_.push_back({name, value, true});
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value, bool persistent) {
  check_new_name(name, "buffer");
  GAU_CHECK(value.defined(), where(), ": buffer '", name, "' is an undefined tensor");
  buffers_.push_back({name, value, persistent});
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name, "module");
  GAU_CHECK(child != nullptr, where(), ": child module '", name, "' is null");
  if (!child->path_from_config_) child->assign_path(join(path_, name), false);
  children_.emplace_back(name, std::move(child));
}

void Module::assign_path(const std::string& path, bool from_config) {
  path_ = path;
  path_from_config_ = path_from_config_ || from_config;
  for (auto& [name, child] : children_)
    if (!child->path_from_config_) child->assign_path(join(path_, name), false);
}

// f(prefix, module) for this module and each descendant, depth first.
template <typename F>
void Module::visit(const std::string& prefix, F&& f) const {
  f(prefix, *this);
  for (const auto& [name, child] : children_) child->visit(join(prefix, name), f);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::set<const TensorImpl*> seen;
  visit("", [&](const std::string& prefix, const Module& m) {
    for (const Entry& e : m.params_)
      if (seen.insert(e.tensor.impl_ptr().get()).second) out.emplace_back(join(prefix, e.name), e.tensor);
  });
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  visit("", [&](const std::string& prefix, const Module& m) {
    for (const Entry& e : m.buffers_) out.emplace_back(join(prefix, e.name), e.tensor);
  });
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  visit("", [&](const std::string& prefix, const Module& m) { out.emplace_back(prefix, &m); });
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device, std::optional<DType> dtype) {
  std::set<const TensorImpl*> seen;
  auto convert = [&](const Tensor& t) {
    Tensor moved = ops::to_device(t, device);
    if (dtype && is_floating(t.dtype())) moved = ops::to_dtype(moved, *dtype);
    return moved;
  };
  visit("", [&](const std::string&, const Module& m) {
    for (const std::vector<Entry>* list : {&m.params_, &m.buffers_}) {
      for (const Entry& e : *list) {
        if (!seen.insert(e.tensor.impl_ptr().get()).second) continue;
        const Tensor grad = e.tensor.grad();
        const Tensor moved = convert(e.tensor);
        if (!moved.same(e.tensor)) rebind(e.tensor, moved);
        if (grad.defined()) e.tensor.set_grad(convert(grad));
      }
    }
  });
}

StateDict Module::state_dict() const {
  StateDict out;
  visit("", [&](const std::string& prefix, const Module& m) {
    for (const Entry& e : m.params_) out.emplace(join(prefix, e.name), e.tensor.detach());
    for (const Entry& e : m.buffers_)
      if (e.persistent) out.emplace(join(prefix, e.name), e.tensor.detach());
  });
  return out;
}

void Module::load_state_dict(const StateDict& dict) {
  const StateDict mine = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, t] : mine) {
    auto it = dict.find(name);
    if (it == dict.end()) {
      missing.push_back(name);
    } else if (!it->second.defined() || it->second.shape() != t.shape() || it->second.dtype() != t.dtype()) {
      mismatched.push_back(name + ": the model has " + describe(t) + ", the state dict " +
                           (it->second.defined() ? describe(it->second) : std::string("an undefined tensor")));
    }
  }
  for (const auto& [name, t] : dict)
    if (!mine.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream os;
    os << "load_state_dict (" << where() << "): the state dict does not match the model; nothing was loaded";
    auto list = [&](const char* what, const std::vector<std::string>& names, const char* first, const char* sep) {
      if (names.empty()) return;
      os << "\n  " << what << " (" << names.size() << "):";
      for (size_t i = 0; i < names.size(); ++i) os << (i ? sep : first) << names[i];
    };
    list("missing keys", missing, " ", ", ");
    list("unexpected keys", unexpected, " ", ", ");
    list("shape/dtype mismatches", mismatched, "\n    ", "\n    ");
    GAU_FAIL(os.str());
  }
  NoGradGuard no_grad;
  for (const auto& [name, t] : mine) ops::copy_(t, dict.at(name));
}

int64_t Module::parameter_count() const {
  int64_t total = 0;
  for (const auto& [name, p] : named_parameters()) total += p.numel();
  return total;
}

}  // namespace gau::layers
