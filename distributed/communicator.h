#pragma once
// Communicator: collectives across the processes of one training run, on the engines clusters
// already run: MPI for CPU tensors, NCCL for CUDA tensors (NCCL bootstrapped through MPI). One
// process is one rank; a run launched without MPI is a world of one, where every collective is a
// no-op, so the trainer has a single code path.
//
//   auto comm = make_communicator({.backend = "auto", .timeout_s = 300, .device = device});
//   auto work = comm->all_reduce(grads, ReduceOp::avg);   // starts it; returns at once
//   ... more backward ...
//   work->wait();                                         // done, or an error naming the rank
//
// Every collective is asynchronous and in place on contiguous tensors of the communicator's
// device. All ranks must issue the same collectives, with the same shapes and dtypes, in the same
// order. wait() never hangs: past the timeout (from the collective's start) it aborts the whole
// run (MPI_Abort / ncclCommAbort) with a message naming the collective, and, when one rank is
// known to have failed or never arrived, that rank. A rank that raises an error calls abort()
// so the others stop at once instead of at their timeout.
//
// On the GPU, collectives run on a dedicated communication stream, ordered after the work
// queued on the current stream by an event; the tensors are recorded on that stream with the
// allocator's record-stream mechanism, so their memory is not reused before the collective ends.
#include <cstdint>
#include <memory>
#include <string>

#include "core/device.h"
#include "core/tensor.h"

namespace gau::distributed {

enum class ReduceOp { sum, avg };

// A collective in flight.
class Work {
 public:
  virtual ~Work() = default;
  // Blocks until the collective is complete on this rank (for NCCL: until it is ordered before
  // the work queued next on the current stream).
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // The rank among this node's processes: picks the GPU.
  virtual int local_rank() const = 0;
  // "single", "mpi" or "nccl".
  virtual std::string backend() const = 0;
  virtual Device device() const = 0;

  // t <- op over ranks of t.
  virtual std::unique_ptr<Work> all_reduce(const Tensor& t, ReduceOp op) = 0;
  // t <- t of rank `root`.
  virtual std::unique_ptr<Work> broadcast(const Tensor& t, int root) = 0;
  // out [world_size * n] <- the in [n] of every rank, by rank.
  virtual std::unique_ptr<Work> all_gather(const Tensor& out, const Tensor& in) = 0;
  // out [n] <- op over ranks of this rank's slice of in [world_size * n].
  virtual std::unique_ptr<Work> reduce_scatter(const Tensor& out, const Tensor& in, ReduceOp op) = 0;
  virtual void barrier() = 0;
  // Ends the whole run now (every rank), with `reason` printed by this rank: for an error on
  // this rank that the others would otherwise wait on until their timeout.
  [[noreturn]] virtual void abort(const std::string& reason) = 0;
};

struct CommunicatorOptions {
  std::string backend = "auto";  // auto | mpi | nccl: auto is nccl for a CUDA device, mpi otherwise
  double timeout_s = 300;        // every collective's limit
  Device device = Device::cpu();
};

// The communicator of this process: a world of one when the process was not launched by an MPI
// launcher (mpirun, srun); otherwise the backend asked for. A multi-rank launch of a build
// without MPI (or NCCL, for nccl) is an error saying so.
std::shared_ptr<Communicator> make_communicator(const CommunicatorOptions& options);

// Whether this process was started by an MPI launcher with more than one rank (the launcher's
// environment: OMPI_COMM_WORLD_SIZE, PMI_SIZE, SLURM_NTASKS under srun).
bool launched_with_multiple_ranks();

}  // namespace gau::distributed
