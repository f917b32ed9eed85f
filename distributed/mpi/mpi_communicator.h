#pragma once
// The MPI backend: collectives on CPU tensors among the ranks of MPI_COMM_WORLD (a duplicate of
// it, so that gau's collectives never match another library's), through MPI's non-blocking
// collectives (MPI_Iallreduce, MPI_Ibcast, MPI_Ireduce, MPI_Iallgather, MPI_Ireduce_scatter_block,
// MPI_Ibarrier), each watched by its deadline (distributed/mpi/mpi_work.h).
//
// bf16 and f16 reductions are done in f32: the tensor is widened into an f32 copy, reduced, and
// rounded back once. MPI has no 16-bit float types; a user-defined MPI_Op summing bf16 would
// round every partial sum to 8 bits of mantissa (log2(N) or N-1 roundings, by algorithm), where
// f32 gives the sum of N values rounded once, the same on every rank. The cost is twice the bytes
// on the wire, acceptable on CPU, where gradients are rarely 16-bit. avg divides the f32 sum
// before the rounding. Broadcast and all_gather move the 16-bit patterns as they are.
//
// Starts MPI if needed (distributed/mpi/mpi_runtime.h). Only distributed/communicator.cpp and
// the NCCL bootstrap construct it: use make_communicator.
#include <memory>

#include "distributed/communicator.h"

namespace gau::distributed {

// options.device must be the CPU.
std::shared_ptr<Communicator> make_mpi_communicator(const CommunicatorOptions& options);

}  // namespace gau::distributed
