#pragma once
// Checks for MPI calls on gau's communicators, which return errors (MPI_ERRORS_RETURN) instead of
// aborting: a failure throws gau::Error naming the statement, file:line, MPI's error string and
// this rank.
//   GAU_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
#include <mpi.h>

#include <string>

namespace gau::distributed::mpi {

// MPI's text for an error code.
std::string mpi_error_string(int code);

namespace detail {
[[noreturn]] void throw_mpi_error(int code, const char* stmt, const char* file, int line);
}

}  // namespace gau::distributed::mpi

#define GAU_MPI_CHECK(stmt)                                                                       \
  do {                                                                                            \
    int gau_mpi_code_ = (stmt);                                                                   \
    if (gau_mpi_code_ != MPI_SUCCESS)                                                             \
      ::gau::distributed::mpi::detail::throw_mpi_error(gau_mpi_code_, #stmt, __FILE__, __LINE__); \
  } while (0)
