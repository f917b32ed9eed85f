#include "tests/support/files.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace gau::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "gau-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::optional<std::string> python_with(const std::vector<std::string>& modules) {
  const char* env = std::getenv("GAU_TEST_PYTHON");
  std::string python = env && *env ? env : "python3";
  // find_spec, not import: importing torch takes seconds, and the script imports it anyway.
  std::string names;
  for (const auto& m : modules) names += (names.empty() ? "'" : ", '") + m + "'";
  const std::string probe =
      "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in [" + names + "]))";
  if (run_command(python + " -c \"" + probe + "\"").first != 0) return std::nullopt;
  return python;
}

std::pair<int, std::string> run_command(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed for: " + command);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

TimedCommand run_command_timed(const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  auto [status, output] = run_command(command);
  return {status, std::move(output), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

fs::path reference_path(const std::string& name) { return fs::path(GAU_TEST_FIXTURES).parent_path() / name; }

}  // namespace gau::test
