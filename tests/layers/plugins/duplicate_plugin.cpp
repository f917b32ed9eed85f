// A plugin whose layer takes a name gau already registered ("linear"), beside a new one.
#include "layers/plugin.h"
#include "layers/registry.h"
#include "tests/layers/plugins/scale_layer.h"

GAU_PLUGIN("duplicate_plugin");
GAU_REGISTER_LAYER("duplicate_plugin_scale", gau::test_plugins::Scale);
GAU_REGISTER_LAYER("linear", gau::test_plugins::Scale);
