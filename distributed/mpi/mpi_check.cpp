#include "distributed/mpi/mpi_check.h"

#include <cstring>

#include "core/error.h"

namespace gau::distributed::mpi {

std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

namespace detail {

void throw_mpi_error(int code, const char* stmt, const char* file, int line) {
  int rank = -1;
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char* base = std::strrchr(file, '/');
  throw Error("MPI error: " + mpi_error_string(code) + " in `" + stmt + "` at " + (base ? base + 1 : file) + ":" +
              std::to_string(line) + " (rank " + std::to_string(rank) + ")");
}

}  // namespace detail

}  // namespace gau::distributed::mpi
