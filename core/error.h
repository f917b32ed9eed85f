#pragma once
// Errors are exceptions whose messages carry the values: op, shapes, dtypes, devices.
//   GAU_CHECK(a.size(-1) == b.size(0), "matmul: inner dimensions differ: a ", a.shape(), ", b ", b.shape());
// Any streamable value (and Shape, DType, Device) can be passed after the condition.
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/small_vector.h"

namespace gau {

// what() is the message followed by the source location, " (at file.cpp:line)", when the error
// came from GAU_CHECK / GAU_FAIL; message() is the message alone, for users who did not write that
// code (the gau command prints it; GAU_DEBUG=1 prints what()).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, const std::string& where = "")
      : std::runtime_error(message + where), message_(message) {}
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// Raised when an allocation cannot be satisfied; the message states asked / in use / cached.
class OutOfMemoryError : public Error {
 public:
  using Error::Error;
};

// The message for a person: message() for a gau::Error, what() for any other exception.
inline std::string error_message(const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  return error ? error->message() : e.what();
}

namespace detail {
template <typename Dims>
void stream_dims(std::ostringstream& os, const Dims& v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ']';
}
inline void stream_one(std::ostringstream& os, const std::vector<int64_t>& v) { stream_dims(os, v); }
template <size_t N>
void stream_one(std::ostringstream& os, const SmallVector<int64_t, N>& v) {
  stream_dims(os, v);
}
template <typename T>
void stream_one(std::ostringstream& os, const T& v) {
  os << v;
}
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (stream_one(os, args), ...);
  return os.str();
}
[[noreturn]] void throw_error(const std::string& msg, const char* file, int line);
}  // namespace detail

}  // namespace gau

#define GAU_FAIL(...) ::gau::detail::throw_error(::gau::detail::concat(__VA_ARGS__), __FILE__, __LINE__)
#define GAU_CHECK(cond, ...)         \
  do {                               \
    if (!(cond)) GAU_FAIL(__VA_ARGS__); \
  } while (0)
