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
//
// On the CPU (MPI), a collective moves forward only while this process is inside an MPI call:
// Open MPI has no progress thread. wait() polls, so the collective always finishes; to overlap
// it with computation, call wait() (or start the next collective) as late as possible, and
// expect the transfer itself to happen mostly inside wait(). MPI's thread level is the caller's
// concern only when MPI grants less than MPI_THREAD_MULTIPLE: then every collective must start,
// and be waited on, on the thread that made the communicator (distributed/mpi/mpi_runtime.h).
//
// The backends: distributed/single_communicator.h (the world of one),
// distributed/mpi/mpi_communicator.h and distributed/nccl/nccl_communicator.h.
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
  // the work queued next on the current stream). A second call returns at once. Call it before
  // the tensors are used again; a Work dropped without it still completes (MPI waits in the
  // destructor), but nothing orders the tensors' next use after it.
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
  // Where the tensors of its collectives live. For NCCL, the GPU picked from the local rank,
  // whatever index CommunicatorOptions::device had: put the model there.
  virtual Device device() const = 0;

  // t <- op over ranks of t. Tensors are f32, f64, bf16, f16, i32 or i64; avg needs a floating
  // dtype. A bad argument throws before anything is sent, on every rank alike.
  virtual std::unique_ptr<Work> all_reduce(const Tensor& t, ReduceOp op) = 0;
  // t <- t of rank `root`.
  virtual std::unique_ptr<Work> broadcast(const Tensor& t, int root) = 0;
  // On rank `root`: t <- op over ranks of t. Every other rank's t is only read, and left as it
  // was. ZeRO-1 reduces each gradient bucket to the ranks that own its pieces this way.
  virtual std::unique_ptr<Work> reduce(const Tensor& t, int root, ReduceOp op) = 0;
  // out [world_size * n] <- the in [n] of every rank, by rank (any shapes of those sizes; out
  // and in must not overlap).
  virtual std::unique_ptr<Work> all_gather(const Tensor& out, const Tensor& in) = 0;
  // out [n] <- op over ranks of this rank's slice of in [world_size * n].
  virtual std::unique_ptr<Work> reduce_scatter(const Tensor& out, const Tensor& in, ReduceOp op) = 0;
  // Returns once every rank has reached it (same timeout as the collectives).
  virtual void barrier() = 0;
  // Ends the whole run now (every rank), with `reason` printed by this rank: for an error on
  // this rank that the others would otherwise wait on until their timeout.
  [[noreturn]] virtual void abort(const std::string& reason) = 0;
};

struct CommunicatorOptions {
  std::string backend = "auto";   // auto | mpi | nccl: auto is nccl for a CUDA device, mpi otherwise
  double timeout_s = 300;         // every collective's limit
  Device device = Device::cpu();  // cpu for mpi; for nccl a CUDA device (see Communicator::device)
};

// The communicator of this process: a world of one when the process was not launched by an MPI
// launcher (mpirun, srun); otherwise the backend asked for (NCCL's ranks meet through MPI). A
// multi-rank launch of a build without MPI (or NCCL, for nccl) is an error naming the build flag
// (GAU_MPI, GAU_NCCL); a 1-rank launch of such a build is a world of one.
std::shared_ptr<Communicator> make_communicator(const CommunicatorOptions& options);

// Whether this process was started by an MPI launcher with more than one rank (the launcher's
// environment: OMPI_COMM_WORLD_SIZE, PMI_SIZE, SLURM_STEP_NUM_TASKS under srun; not
// SLURM_NTASKS, which a batch script's single process sees too). See distributed/launcher.h.
bool launched_with_multiple_ranks();

}  // namespace gau::distributed
