#pragma once
// MPI itself, started once per process: the first communicator that needs it calls
// MPI_Init_thread, and MPI_Finalize runs at exit (unless the program had started MPI itself,
// which then finalises it too).
//
// Threads: gau asks for MPI_THREAD_MULTIPLE, so that collectives may start from any thread.
// DataParallel starts them from gradient-ready hooks, which run on the thread that runs
// backward: the trainer's thread, which is also the one that created the communicator. An MPI
// that grants only MPI_THREAD_FUNNELED (or SERIALIZED) therefore still works, provided every
// collective starts, and every wait runs, on the thread that started MPI; check_mpi_thread()
// turns a call from another thread into an error instead of undefined behaviour.
#include <mpi.h>

#include <string>
#include <thread>

namespace gau::distributed::mpi {

struct MpiRuntime {
  int thread_level = MPI_THREAD_SINGLE;  // what MPI granted
  std::thread::id init_thread;           // the thread that started MPI
};

// Starts MPI on the first call; throws gau::Error if it cannot.
const MpiRuntime& mpi_runtime();

// Throws unless the calling thread may call MPI (see above); `what` names the caller.
void check_mpi_thread(const char* what);

// The rank among the processes of `comm` on this node: the launcher's word
// (distributed/launcher.h) when it gave one, else from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED),
// which is collective over `comm`.
int node_local_rank(MPI_Comm comm);

// Prints abort_line(rank of comm, its size, reason) to stderr and ends every rank of `comm`'s
// world (MPI_Abort with exit code 1).
[[noreturn]] void abort_world(MPI_Comm comm, const std::string& reason);

}  // namespace gau::distributed::mpi
