// A plugin that the test loads by itself first, as a program that links its plugin would have it.
#include "layers/plugin.h"
#include "layers/registry.h"
#include "tests/layers/plugins/scale_layer.h"

GAU_PLUGIN("resident_plugin");
GAU_REGISTER_LAYER("resident_scale", gau::test_plugins::Scale);
