#pragma once
// gau's version, for the code that compiles against it, and the version of the library that runs.
//
//   #if GAU_VERSION_NUMBER >= 100   // 0.1.0 and later
//   gau::version()                  // "0.1.0": the libgau.so this program loaded
//
// This header is the one place the version is written: CMakeLists.txt reads it for project().
// GAU_VERSION_STRING is what a plugin was compiled against (layers/plugin.h records it); version()
// is what it is loaded into, so a mismatch between the two can be refused.
#define GAU_VERSION_MAJOR 0
#define GAU_VERSION_MINOR 1
#define GAU_VERSION_PATCH 0

#define GAU_VERSION_STRINGIFY2(x) #x
#define GAU_VERSION_STRINGIFY(x) GAU_VERSION_STRINGIFY2(x)
#define GAU_VERSION_STRING             \
  GAU_VERSION_STRINGIFY(GAU_VERSION_MAJOR) \
  "." GAU_VERSION_STRINGIFY(GAU_VERSION_MINOR) "." GAU_VERSION_STRINGIFY(GAU_VERSION_PATCH)
#define GAU_VERSION_NUMBER (GAU_VERSION_MAJOR * 10000 + GAU_VERSION_MINOR * 100 + GAU_VERSION_PATCH)

namespace gau {

// The version of the loaded library, "major.minor.patch".
const char* version();

}  // namespace gau
