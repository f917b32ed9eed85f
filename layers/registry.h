#pragma once
// The layer registry: builds any layer or model from a YAML node.
//
//   auto m = layers::build(YAML::Load("{type: linear, in: 64, out: 32, bias: true}"));
//   m->config();   // {type: linear, in: 64, out: 32, bias: true, init: uniform, ...}: rebuilds the same layer
//
// A layer type registers with one line in its .cpp file:
//
//   GAU_REGISTER_LAYER("linear", Linear);
//
// which needs three static members of the class:
//
//   static std::shared_ptr<Module> from_config(ConfigReader& r);   // reads its keys through r
//   static const char* example_config();                          // small YAML, without type:
//   static Tensor example_input(const Linear& m, uint64_t seed);  // an input for m.forward(x)
//
// The example config and input are the uniform test hook: tests/layers/registry_test.cpp builds
// every registered type from its example, runs forward(x) (Module's single-input forward: token
// ids for an embedding, activations for a linear) and backward, and round-trips it through
// config() and the state dict, so a new layer is tested as soon as it registers.
//
// Static registration and shared libraries: GAU_REGISTER_LAYER defines a namespace-scope object
// whose constructor adds the type. The registry itself is a function-local static, so it exists
// before the first registration whatever the order of initialisation. The layers in libgau.so
// register when the library is loaded, since a shared library is loaded whole. A user's layer
// registers the same way from its own shared library (linked, or dlopen'ed before building) or
// executable, or from a plugin that `gau train` loads (`plugins:` in the config; layers/plugin.h).
// From a static library, the linker drops object files nothing references, and their
// registrations with them: link such a library with --whole-archive. A name registered twice is
// an error: thrown during static initialisation, so the program stops with its message, or, while
// a plugin loads, recorded and reported by the plugin loader (an exception cannot cross dlopen).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

struct LayerType {
  std::string name;
  std::function<std::shared_ptr<Module>(ConfigReader&)> from_config;
  std::string example_config;  // YAML map without `type:`
  std::function<Tensor(const Module&, uint64_t seed)> example_input;
  std::string origin;  // the plugin that registered it; "" for libgau or the program itself

  template <typename T>
  static LayerType of(const std::string& name) {
    return {name, &T::from_config, T::example_config(), [name](const Module& m, uint64_t seed) {
              const T* typed = dynamic_cast<const T*>(&m);
              GAU_CHECK(typed != nullptr, "registry: the example input of '", name, "' was asked for a ", m.where());
              return T::example_input(*typed, seed);
            },
            ""};
  }
};

class Registry {
 public:
  static Registry& global();
  void add(LayerType type);
  // The type, or null.
  const LayerType* find(const std::string& name) const;
  // Every registered type, sorted by name.
  std::vector<const LayerType*> types() const;
  std::vector<std::string> names() const;

  // The plugin loader's bracket around dlopen: between the two, registrations are tagged with
  // `origin`, and a duplicate name is recorded instead of thrown. end_plugin returns what was
  // registered and the errors; abort_plugin removes what `origin` registered (before dlclose,
  // since its factories live in the plugin's code).
  struct PluginRegistrations {
    std::vector<std::string> names;
    std::vector<std::string> errors;
  };
  void begin_plugin(const std::string& origin);
  PluginRegistrations end_plugin();
  void abort_plugin(const std::string& origin);

 private:
  std::vector<std::unique_ptr<LayerType>> types_;
  std::string loading_;  // the plugin being loaded, or ""
  PluginRegistrations loaded_;
};

// Builds the layer `node` describes ({type: ..., keys...}); `path` names it in messages and
// becomes its path(); `file` is the YAML file it came from, if known. The built module's config()
// is the node with defaults filled in.
std::shared_ptr<Module> build(const YAML::Node& node, const std::string& path = "model", const std::string& file = "");

struct Registration {
  explicit Registration(LayerType type) { Registry::global().add(std::move(type)); }
};

}  // namespace gau::layers

#define GAU_REGISTER_LAYER_CAT2(a, b) a##b
#define GAU_REGISTER_LAYER_CAT(a, b) GAU_REGISTER_LAYER_CAT2(a, b)
#define GAU_REGISTER_LAYER(name, Class)                            \
  static const ::gau::layers::Registration GAU_REGISTER_LAYER_CAT( \
      gau_layer_registration_, __COUNTER__)(::gau::layers::LayerType::of<Class>(name))
