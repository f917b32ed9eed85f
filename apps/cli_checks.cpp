#include "apps/cli_checks.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace gau::apps {

const CLI::Validator& non_negative_integer() {
  static const CLI::Validator check(
      [](std::string& value) -> std::string {
        const bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) {
          return std::isdigit(c) != 0;
        });
        if (!digits) return "expected an integer >= 0, got '" + value + "'";
        // Past int64's range the conversion would wrap (an unsigned seed) or fail obscurely.
        const std::string max = "9223372036854775807";
        const std::string trimmed = value.substr(std::min(value.find_first_not_of('0'), value.size() - 1));
        if (trimmed.size() > max.size() || (trimmed.size() == max.size() && trimmed > max))
          return "expected an integer in [0, " + max + "], got '" + value + "'";
        return "";
      },
      "INTEGER >= 0", "non_negative_integer");
  return check;
}

}  // namespace gau::apps
