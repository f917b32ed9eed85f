// A plugin as if compiled against another gau: its record names version 9.9.9. The record is
// written by hand (GAU_PLUGIN would write this gau's version); the loader must refuse it before
// dlopen, so the registration below, which would otherwise succeed, must never run.
#include "layers/plugin.h"
#include "layers/registry.h"
#include "tests/layers/plugins/scale_layer.h"

extern "C" __attribute__((used, retain, section(".gau_plugin"), visibility("default")))
const gau::layers::PluginRecord gau_plugin_record = {"gau-plugin", gau::layers::kPluginAbi, "9.9.9", "other_version"};

GAU_REGISTER_LAYER("other_version_scale", gau::test_plugins::Scale);
