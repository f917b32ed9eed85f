#include "distributed/mpi/mpi_work.h"

#include <sched.h>

#include <utility>

#include "distributed/mpi/mpi_check.h"
#include "distributed/mpi/mpi_runtime.h"

namespace gau::distributed::mpi {

void wait_or_abort(MPI_Request& request, const CollectiveWatch& watch, MPI_Comm comm) {
  check_mpi_thread(watch.what.c_str());
  int complete = 0;
  while (true) {
    const int rc = MPI_Test(&request, &complete, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      abort_world(comm, watch.what + " failed: " + mpi_error_string(rc));
    }
    if (complete) return;
    if (watch.deadline.passed()) abort_world(comm, timeout_reason(watch));
    sched_yield();
  }
}

MpiWork::MpiWork(MPI_Request request, CollectiveWatch watch, MPI_Comm comm, std::vector<Tensor> buffers,
                 std::function<void()> finish)
    : request_(request),
      watch_(std::move(watch)),
      comm_(comm),
      buffers_(std::move(buffers)),
      finish_(std::move(finish)) {}

MpiWork::~MpiWork() {
  if (!done_) wait();
}

void MpiWork::wait() {
  if (done_) return;
  wait_or_abort(request_, watch_, comm_);
  done_ = true;
  if (finish_) finish_();
  buffers_.clear();
}

}  // namespace gau::distributed::mpi
