#include "trainers/subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace gau::trainers {

namespace fs = std::filesystem;

namespace {

bool is_executable_file(const fs::path& p) { return fs::is_regular_file(p) && ::access(p.c_str(), X_OK) == 0; }

}  // namespace

std::optional<fs::path> find_program(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return is_executable_file(program) ? std::optional<fs::path>(program) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (is_executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

ProgramResult run_program(const fs::path& program, const std::vector<std::string>& args, const fs::path& cwd) {
  // Everything the child needs is made before fork: between fork and exec it may only make
  // async-signal-safe calls, as the parent has other threads (OpenMP, the loader's prefetch).
  const std::string prog = program.string(), dir = cwd.string();
  std::vector<std::string> argv_text = {prog};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  // out: the child's stdout and stderr. failed: the errno of a failed chdir or exec; closed
  // unwritten (close-on-exec) when exec succeeds.
  int out[2], failed[2];
  GAU_CHECK(::pipe2(out, O_CLOEXEC) == 0, "cannot run ", prog, ": pipe: ", std::strerror(errno));
  if (::pipe2(failed, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]), ::close(out[1]);
    GAU_FAIL("cannot run ", prog, ": pipe: ", std::strerror(e));
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0 && ::dup2(null_in, 0) >= 0 && ::dup2(out[1], 1) >= 0 && ::dup2(out[1], 2) >= 0 &&
        ::chdir(dir.c_str()) == 0)
      ::execv(prog.c_str(), argv.data());
    const int e = errno;
    [[maybe_unused]] const ssize_t written = ::write(failed[1], &e, sizeof e);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(out[1]), ::close(failed[1]);
  if (pid < 0) {
    ::close(out[0]), ::close(failed[0]);
    GAU_FAIL("cannot run ", prog, ": fork: ", std::strerror(fork_errno));
  }
  int exec_errno = 0;
  ssize_t got;
  while ((got = ::read(failed[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  ::close(failed[0]);
  ProgramResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n > 0) result.output.append(buffer, static_cast<size_t>(n));
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    GAU_CHECK(errno == EINTR, "cannot run ", prog, ": waitpid: ", std::strerror(errno));
  GAU_CHECK(got != sizeof exec_errno, "cannot run ", prog, " in ", dir, ": ", std::strerror(exec_errno));
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace gau::trainers
