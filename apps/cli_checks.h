#pragma once
// Checks of command-line values shared by the subcommands, with messages that say what was
// expected in words (CLI11's own range checks print the bounds of a double in full).
#include <CLI/CLI.hpp>

namespace gau::apps {

// A whole number >= 0: "--seed: expected an integer >= 0, got '-1'".
const CLI::Validator& non_negative_integer();
// A whole number >= 1: "--sizes: expected an integer >= 1, got '0'".
const CLI::Validator& positive_integer();

}  // namespace gau::apps
