#pragma once
// `gau bench <family> [--json] [--device cpu|cuda[:N]] [--warmup-s S] [--repeats N] [--quick]
//                     [--sizes n,...] [--out FILE]`: runs one benchmark family (bench/) and prints
// its report as a table or JSON; --out also writes the JSON to FILE.
#include <CLI/CLI.hpp>

namespace gau::apps {

void add_bench_command(CLI::App& app);

}  // namespace gau::apps
