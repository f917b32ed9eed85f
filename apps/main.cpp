// The gau command: one subcommand per file in apps/ (train, eval, generate, plot, config, info, bench).
// Every failure prints one line to stderr and exits with status 1; under an MPI launcher the line
// names the rank, since every rank that fails prints its own (often the same config error).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#ifdef GAU_WITH_BENCH
#include "apps/bench_command.h"
#endif
#include "apps/config_command.h"
#include "apps/eval_command.h"
#include "apps/generate_command.h"
#include "apps/info_command.h"
#include "apps/plot_command.h"
#include "apps/train_command.h"
#include "core/error.h"
#include "core/version.h"
#include "distributed/launcher.h"
#include "layers/config_reader.h"

namespace {

// "gau: error: " alone, or "gau: error (rank 1 of 4): " when the launcher started several ranks.
std::string error_prefix() {
  try {
    const std::optional<int> world = gau::distributed::launcher_world_size();
    const std::optional<int> rank = gau::distributed::launcher_rank();
    if (world && *world > 1 && rank)
      return "gau: error (rank " + std::to_string(*rank) + " of " + std::to_string(*world) + "): ";
  } catch (const std::exception&) {  // a malformed launcher variable: fall back to the plain prefix
  }
  return "gau: error: ";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gau: GAU/FLASH attention models on CPU and CUDA"};
  app.require_subcommand(1);
  app.set_version_flag("--version", gau::version());
  gau::apps::add_train_command(app);
  gau::apps::add_eval_command(app);
  gau::apps::add_generate_command(app);
  gau::apps::add_plot_command(app);
  gau::apps::add_config_command(app);
  gau::apps::add_info_command(app);
#ifdef GAU_WITH_BENCH  // -DGAU_BUILD_BENCH=OFF leaves the benchmarks out
  gau::apps::add_bench_command(app);
#endif
  // CLI11 answers a mistyped command with "A subcommand is required"; name it and the nearest.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      const std::string hint = gau::layers::nearest(argv[1], names);
      std::cerr << error_prefix() << "unknown command '" << argv[1] << "'"
                << (hint.empty() ? "" : "; did you mean '" + hint + "'?")
                << "\nthe commands: " << gau::layers::comma_list(names) << " (gau --help)\n";
      return 1;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0.
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    // The source location is for whoever debugs gau, not for the user who mistyped a key.
    std::cerr << error_prefix() << (std::getenv("GAU_DEBUG") ? e.what() : gau::error_message(e)) << "\n";
    return 1;
  } catch (...) {  // a plugin's code may throw anything
    std::cerr << error_prefix() << "an exception that is not a std::exception (from a plugin's layer?)\n";
    return 1;
  }
  return 0;
}
