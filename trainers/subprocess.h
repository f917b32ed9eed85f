#pragma once
// Running an external program (gnuplot, for `gau plot`) directly, without a shell, so that no
// file name is ever quoted or interpreted.
//
//   auto gnuplot = find_program("gnuplot");                  // nullopt when not installed
//   ProgramResult r = run_program(*gnuplot, {"plots.gp"}, out_dir);
//   if (r.exit_code != 0) ... r.output ...
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gau::trainers {

// `program` itself when it holds a '/', else the first executable of that name in a directory of
// $PATH; nullopt when there is none (or `program` is not an executable file).
std::optional<std::filesystem::path> find_program(const std::string& program);

struct ProgramResult {
  int exit_code = 0;   // the exit status; 128 + N when killed by signal N
  std::string output;  // stdout and stderr together
};

// Runs `program` with `args` in the directory `cwd` and waits for it; stdin is /dev/null.
// Throws when the program cannot be started at all.
ProgramResult run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                          const std::filesystem::path& cwd);

}  // namespace gau::trainers
