#include "core/version.h"

namespace gau {

const char* version() { return GAU_VERSION_STRING; }

}  // namespace gau
