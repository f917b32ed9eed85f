#include "distributed/launcher.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace gau::distributed {

namespace {

// The first of `names` set in the environment, as a non-negative integer.
std::optional<int> first_integer_env(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    const long n = std::strtol(value, &end, 10);
    GAU_CHECK(*end == '\0' && n >= 0 && n <= 1 << 24, "the launcher's environment variable ", name, "=", value,
              " is not a rank count or index");
    return static_cast<int>(n);
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> launcher_world_size() {
  return first_integer_env({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"});
}

std::optional<int> launcher_rank() { return first_integer_env({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}); }

std::optional<int> launcher_local_rank() {
  return first_integer_env({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"});
}

}  // namespace gau::distributed
