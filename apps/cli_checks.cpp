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
        return digits ? "" : "expected an integer >= 0, got '" + value + "'";
      },
      "INTEGER >= 0", "non_negative_integer");
  return check;
}

}  // namespace gau::apps
