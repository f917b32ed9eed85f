#include "core/error.h"

#include <cstring>

namespace gau::detail {

[[noreturn]] void throw_error(const std::string& msg, const char* file, int line) {
  // Keep the message first (what users read); the source location helps us, so it goes last.
  const char* base = std::strrchr(file, '/');
  std::string where = std::string(" (at ") + (base ? base + 1 : file) + ":" + std::to_string(line) + ")";
  if (msg.rfind("out of memory", 0) == 0) throw OutOfMemoryError(msg, where);
  throw Error(msg, where);
}

}  // namespace gau::detail
