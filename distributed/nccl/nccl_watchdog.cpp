#include "distributed/nccl/nccl_watchdog.h"

#include <chrono>
#include <utility>

namespace gau::distributed::nccl {

namespace {
// Often enough that a failure is seen within a small part of any sensible timeout, rarely enough
// to cost nothing beside the training step.
constexpr auto kPollPeriod = std::chrono::milliseconds(5);
}  // namespace

NcclWatchdog::NcclWatchdog(ncclComm_t comm, std::function<void(const std::string&)> fail)
    : comm_(comm), fail_(std::move(fail)), thread_([this] { run(); }) {}

NcclWatchdog::~NcclWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void NcclWatchdog::watch(std::shared_ptr<CudaEvent> done, CollectiveWatch watch) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back({std::move(done), std::move(watch)});
  }
  changed_.notify_all();
}

void NcclWatchdog::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return pending_.empty(); });
}

std::string NcclWatchdog::check_locked() {
  ncclResult_t async = ncclSuccess;
  const ncclResult_t query = ncclCommGetAsyncError(comm_, &async);
  if (query != ncclSuccess) async = query;
  for (size_t i = 0; i < pending_.size();) {
    const Entry& e = pending_[i];
    const cudaError_t state = cudaEventQuery(e.done->get());
    if (state == cudaSuccess) {
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (state != cudaErrorNotReady) {
      cudaGetLastError();
      return e.watch.what + " failed on the GPU: " + cudaGetErrorName(state) + ": " + cudaGetErrorString(state);
    }
    if (async != ncclSuccess && async != ncclInProgress) {
      return e.watch.what + " failed: NCCL reports " + ncclGetErrorString(async) + " (" + ncclGetLastError(comm_) + ")";
    }
    if (e.watch.deadline.passed()) return timeout_reason(e.watch);
    ++i;
  }
  return "";
}

void NcclWatchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (pending_.empty()) {
      changed_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      continue;
    }
    const std::string reason = check_locked();
    if (!reason.empty()) {
      lock.unlock();
      fail_(reason);  // ends the run
      return;
    }
    if (pending_.empty()) changed_.notify_all();  // drain() may be waiting
    changed_.wait_for(lock, kPollPeriod);
  }
}

}  // namespace gau::distributed::nccl
