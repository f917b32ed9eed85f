#include "distributed/mpi/mpi_runtime.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "distributed/collective_watch.h"
#include "distributed/launcher.h"
#include "distributed/mpi/mpi_check.h"

namespace gau::distributed::mpi {

namespace {

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    default:
      return "MPI_THREAD_MULTIPLE";
  }
}

// Open MPI's non-blocking all-reduce (libnbc) picks a binomial tree, reduce to rank 0 then
// broadcast, for fewer than 4 ranks or an in-place buffer, which gau's always is: measured with 2
// ranks on a 2-core VM, 0.4-0.5x the bus bandwidth of the blocking MPI_Allreduce from 1 MiB to
// 256 MiB (gau bench allreduce). Its reduce-scatter + all-gather schedule (Rabenseifner's; a ring
// when there are fewer elements than ranks) gives 0.94-1.0x. A value set in the environment or
// with mpirun --mca is kept; other MPIs ignore the variable.
void prefer_bandwidth_optimal_iallreduce() { setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "3", 0); }

// Finalises MPI at exit if gau started it. Its destructor runs after main returns, once the
// communicators (owned by the program) are gone.
struct Finaliser {
  bool started_here = false;
  ~Finaliser() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (started_here && !finalized) MPI_Finalize();
  }
};

MpiRuntime start() {
  static Finaliser finaliser;
  MpiRuntime runtime;
  int initialized = 0;
  GAU_MPI_CHECK(MPI_Initialized(&initialized));
  if (initialized) {
    GAU_MPI_CHECK(MPI_Query_thread(&runtime.thread_level));
  } else {
    prefer_bandwidth_optimal_iallreduce();
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &runtime.thread_level);
    GAU_CHECK(rc == MPI_SUCCESS, "MPI_Init_thread failed: ", mpi_error_string(rc));
    finaliser.started_here = true;
  }
  runtime.init_thread = std::this_thread::get_id();
  return runtime;
}

}  // namespace

const MpiRuntime& mpi_runtime() {
  static const MpiRuntime runtime = start();
  return runtime;
}

void check_mpi_thread(const char* what) {
  const MpiRuntime& runtime = mpi_runtime();
  GAU_CHECK(runtime.thread_level == MPI_THREAD_MULTIPLE || std::this_thread::get_id() == runtime.init_thread, what,
            ": this MPI grants only ", thread_level_name(runtime.thread_level),
            ", so collectives must start and be waited on from the thread that started MPI (the one that made the "
            "communicator), not from another thread; or use an MPI built with MPI_THREAD_MULTIPLE");
}

int node_local_rank(MPI_Comm comm) {
  if (auto local = launcher_local_rank()) return *local;
  MPI_Comm node;
  GAU_MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int rank = 0;
  GAU_MPI_CHECK(MPI_Comm_rank(node, &rank));
  GAU_MPI_CHECK(MPI_Comm_free(&node));
  return rank;
}

void abort_world(MPI_Comm comm, const std::string& reason) {
  int rank = -1;
  int size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  std::fprintf(stderr, "%s\n", abort_line(rank, size, reason).c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(comm, 1);
  std::_Exit(1);  // MPI_Abort does not return; should an implementation's do, the run still ends
}

}  // namespace gau::distributed::mpi
