// A shared library that registers a layer but never says it is a gau plugin (no GAU_PLUGIN).
#include "layers/registry.h"
#include "tests/layers/plugins/scale_layer.h"

GAU_REGISTER_LAYER("no_record_scale", gau::test_plugins::Scale);
