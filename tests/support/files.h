#pragma once
// Files, temporary directories and the reference Python for tests that write to disk.
//
//   test::TempDir dir;                                   // removed with everything in it
//   test::write_bytes(dir.path() / "x", bytes);
//   auto py = test::python_with({"safetensors", "torch"});
//   if (!py) GTEST_SKIP() << "no Python with safetensors";
//   auto [rc, out] = test::run_command(*py + " script.py " + path);
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gau::test {

// A fresh directory under the system temporary directory, removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// The reference Python: $GAU_TEST_PYTHON, else python3 from PATH, when it can import every module
// in `modules`; nullopt otherwise (the calling test skips).
std::optional<std::string> python_with(const std::vector<std::string>& modules);

// Runs `command` through the shell; returns its exit status and its stdout and stderr together.
std::pair<int, std::string> run_command(const std::string& command);

// run_command with its wall time, for tests that bound how long a launch may take.
struct TimedCommand {
  int status;
  std::string output;
  double seconds;
};
TimedCommand run_command_timed(const std::string& command);

// tests/reference/<name>: the reference scripts, and fixtures/ beside them.
std::filesystem::path reference_path(const std::string& name);

}  // namespace gau::test
