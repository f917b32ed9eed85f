#pragma once
// The NCCL backend: collectives on CUDA tensors, one GPU per rank.
//
// Start-up: the ranks find each other through `bootstrap`, a CPU communicator over the same
// ranks (MPI's world; the world of one for a single process): rank 0 makes the ncclUniqueId and
// bootstrap broadcasts it, then every rank joins with ncclCommInitRank. The rank's GPU is
// cuda:<local rank> (the rank's place on its node), or cuda:0 when the rank sees one GPU only
// (srun --gpus-per-task=1 and the like); device() says which, and the model belongs there.
//
// Streams: each collective runs on the communicator's own stream, after an event that orders it
// behind the work queued so far on the calling thread's current stream, and records its buffers
// on that stream (gau::record_stream), so the allocator keeps them until it has finished. wait()
// only makes the current stream wait for its completion event: the host does not block.
//
// Faults: a watchdog thread (distributed/nccl/nccl_watchdog.h) ends the run, through ncclCommAbort
// and then bootstrap's abort (MPI_Abort), when a collective passes its deadline or NCCL reports
// an asynchronous error.
#include <memory>

#include "distributed/communicator.h"

namespace gau::distributed {

// options.device must be a CUDA device; options.timeout_s limits every collective.
std::shared_ptr<Communicator> make_nccl_communicator(const CommunicatorOptions& options,
                                                     std::shared_ptr<Communicator> bootstrap);

}  // namespace gau::distributed
