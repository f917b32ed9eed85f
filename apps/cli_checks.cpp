#include "apps/cli_checks.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace gau::apps {

namespace {

// "" when `value` is a whole number in [low, 2^63 - 1], else what was expected.
std::string integer_error(const std::string& value, int low) {
  const std::string expected = low == 0 ? "an integer >= 0" : "an integer >= 1";
  const bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) {
    return std::isdigit(c) != 0;
  });
  if (!digits) return "expected " + expected + ", got '" + value + "'";
  // Past int64's range the conversion would wrap (an unsigned seed) or fail obscurely.
  const std::string max = "9223372036854775807";
  const std::string trimmed = value.substr(std::min(value.find_first_not_of('0'), value.size() - 1));
  if (trimmed.size() > max.size() || (trimmed.size() == max.size() && trimmed > max))
    return "expected an integer in [" + std::to_string(low) + ", " + max + "], got '" + value + "'";
  if (low == 1 && trimmed == "0") return "expected " + expected + ", got '" + value + "'";
  return "";
}

}  // namespace

const CLI::Validator& non_negative_integer() {
  static const CLI::Validator check([](std::string& value) { return integer_error(value, 0); }, "INTEGER >= 0",
                                    "non_negative_integer");
  return check;
}

const CLI::Validator& positive_integer() {
  static const CLI::Validator check([](std::string& value) { return integer_error(value, 1); }, "INTEGER >= 1",
                                    "positive_integer");
  return check;
}

}  // namespace gau::apps
