#pragma once
// A collective of the MPI backend in flight: its request, the buffers MPI reads and writes until
// it completes, and what is left to do after it (avg's division, the conversion of a bf16 or f16
// result back from the f32 it was reduced in).
//
// wait() polls MPI_Test until the request completes, yielding the core between polls (a rank
// that waits has nothing else to run, and the other ranks may share its cores). Past the
// collective's deadline, or on an MPI error, it prints one line and MPI_Abort's the whole run: a
// collective that one rank cannot finish leaves the others waiting on it, so no rank may carry
// on. Open MPI moves a non-blocking collective forward only inside MPI calls on this process, so
// the polls are also what make it progress.
#include <mpi.h>

#include <functional>
#include <vector>

#include "core/tensor.h"
#include "distributed/collective_watch.h"
#include "distributed/communicator.h"

namespace gau::distributed::mpi {

// Polls `request` until it completes; see above for a deadline passed or an MPI error.
void wait_or_abort(MPI_Request& request, const CollectiveWatch& watch, MPI_Comm comm);

class MpiWork final : public Work {
 public:
  MpiWork(MPI_Request request, CollectiveWatch watch, MPI_Comm comm, std::vector<Tensor> buffers,
          std::function<void()> finish);
  // A collective dropped without wait() is still waited for (and finished): MPI owns its buffers
  // until it completes.
  ~MpiWork() override;
  void wait() override;

 private:
  MPI_Request request_;
  CollectiveWatch watch_;
  MPI_Comm comm_;
  std::vector<Tensor> buffers_;
  std::function<void()> finish_;
  bool done_ = false;
};

}  // namespace gau::distributed::mpi
