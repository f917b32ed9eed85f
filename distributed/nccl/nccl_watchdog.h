#pragma once
// The NCCL backend's guard against a hang. A collective on the GPU completes on its stream, not in
// a call the host could time out, so a thread of its own watches every collective in flight: it
// polls each one's completion event (cudaEventQuery) and the communicator's asynchronous error
// (ncclCommGetAsyncError) every few milliseconds, and when a deadline passes or NCCL reports an
// error it calls `fail` with the reason, on the watchdog's thread. The communicator's `fail`
// aborts the NCCL communicator (ncclCommAbort, which frees the GPU kernels stuck in the
// collective) and then the whole run.
#include <nccl.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "distributed/collective_watch.h"
#include "distributed/nccl/cuda_event.h"

namespace gau::distributed::nccl {

class NcclWatchdog {
 public:
  NcclWatchdog(ncclComm_t comm, std::function<void(const std::string& reason)> fail);
  // Stops the thread; call drain() first for the collectives still in flight.
  ~NcclWatchdog();
  NcclWatchdog(const NcclWatchdog&) = delete;
  NcclWatchdog& operator=(const NcclWatchdog&) = delete;

  // Watches the collective that records `done` on completion.
  void watch(std::shared_ptr<CudaEvent> done, CollectiveWatch watch);
  // Blocks until every watched collective has completed (or `fail` has ended the run).
  void drain();

 private:
  struct Entry {
    std::shared_ptr<CudaEvent> done;
    CollectiveWatch watch;
  };
  void run();
  // The reason to fail, or "" while everything is in order; drops the completed entries.
  std::string check_locked();

  ncclComm_t comm_;
  std::function<void(const std::string&)> fail_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Entry> pending_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gau::distributed::nccl
