#pragma once
// Checks for NCCL calls: a failure throws gau::Error naming the statement, file:line, NCCL's
// error string and last error message, and the current device.
//   GAU_NCCL_CHECK(ncclCommInitRank(&comm, world_size, id, rank));
#include <nccl.h>

namespace gau::distributed::nccl::detail {
[[noreturn]] void throw_nccl_error(ncclResult_t result, const char* stmt, const char* file, int line);
}

#define GAU_NCCL_CHECK(stmt)                                                                           \
  do {                                                                                                 \
    ncclResult_t gau_nccl_result_ = (stmt);                                                            \
    if (gau_nccl_result_ != ncclSuccess)                                                               \
      ::gau::distributed::nccl::detail::throw_nccl_error(gau_nccl_result_, #stmt, __FILE__, __LINE__); \
  } while (0)
