// A plugin that declares itself and registers nothing.
#include "layers/plugin.h"

GAU_PLUGIN("empty_plugin");
