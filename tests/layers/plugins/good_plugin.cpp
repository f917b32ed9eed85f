// A well-formed plugin: one declaration, two layers.
#include "layers/plugin.h"
#include "layers/registry.h"
#include "tests/layers/plugins/scale_layer.h"

GAU_PLUGIN("good_plugin");
GAU_REGISTER_LAYER("plugin_scale", gau::test_plugins::Scale);
GAU_REGISTER_LAYER("plugin_scale_too", gau::test_plugins::Scale);
