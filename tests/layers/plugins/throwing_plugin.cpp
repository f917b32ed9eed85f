// A plugin whose static initialiser throws after one of its layers registered: the load fails
// naming the plugin and the error, its registration is undone, and later loads still work.
#include <stdexcept>

#include "layers/plugin.h"
#include "layers/registry.h"
#include "tests/layers/plugins/scale_layer.h"

GAU_PLUGIN("throwing_plugin");
GAU_REGISTER_LAYER("throwing_plugin_scale", gau::test_plugins::Scale);

namespace {
const bool kThrows = [] {
  throw std::runtime_error("the plugin's set-up failed on purpose");
  return true;
}();
}  // namespace
