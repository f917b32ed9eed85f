#include "distributed/nccl/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/cuda/context.h"
#include "core/cuda/cuda_check.h"
#include "core/error.h"
#include "core/stream.h"
#include "distributed/collective_args.h"
#include "distributed/collective_watch.h"
#include "distributed/nccl/cuda_event.h"
#include "distributed/nccl/nccl_check.h"
#include "distributed/nccl/nccl_watchdog.h"

namespace gau::distributed {

namespace {

using nccl::CudaEvent;
using nccl::NcclWatchdog;

ncclDataType_t nccl_datatype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return ncclFloat32;
    case DType::f64:
      return ncclFloat64;
    case DType::bf16:
      return ncclBfloat16;
    case DType::f16:
      return ncclFloat16;
    case DType::i32:
      return ncclInt32;
    case DType::i64:
      return ncclInt64;
    case DType::b8:
      break;
  }
  GAU_FAIL("NCCL: no NCCL type for dtype ", dtype_name(dtype));
}

ncclRedOp_t nccl_op(ReduceOp op) { return op == ReduceOp::sum ? ncclSum : ncclAvg; }

// cuda:<local rank>, or cuda:0 when this rank sees a single GPU.
Device pick_gpu(const Communicator& bootstrap) {
  const int count = cuda_device_count();
  GAU_CHECK(count > 0, "the NCCL backend needs a GPU, but rank ", bootstrap.rank(), " sees none");
  if (count == 1) return Device::cuda(0);
  GAU_CHECK(bootstrap.local_rank() < count, "rank ", bootstrap.rank(), " is process ", bootstrap.local_rank(),
            " on its node, which shows only ", count, " GPUs: start at most one rank per GPU on each node");
  return Device::cuda(bootstrap.local_rank());
}

// Rank 0's ncclUniqueId, broadcast to every rank through the bootstrap's CPU collective.
ncclUniqueId shared_unique_id(Communicator& bootstrap) {
  ncclUniqueId id;
  static_assert(sizeof(id) % sizeof(int64_t) == 0);
  Tensor carrier = Tensor::empty({static_cast<int64_t>(sizeof(id) / sizeof(int64_t))}, DType::i64);
  if (bootstrap.rank() == 0) {
    GAU_NCCL_CHECK(ncclGetUniqueId(&id));
    std::memcpy(carrier.data_ptr(), &id, sizeof(id));
  }
  bootstrap.broadcast(carrier, 0)->wait();
  std::memcpy(&id, carrier.data_ptr(), sizeof(id));
  return id;
}

// Orders the current stream after a collective's completion event.
class NcclWork final : public Work {
 public:
  NcclWork(std::shared_ptr<CudaEvent> done, Device device) : done_(std::move(done)), device_(device) {}
  void wait() override {
    cuda::DeviceGuard guard(device_);
    GAU_CUDA_CHECK(cudaStreamWaitEvent(cuda::current_cuda_stream(device_), done_->get(), 0));
  }

 private:
  std::shared_ptr<CudaEvent> done_;
  Device device_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const CommunicatorOptions& options, std::shared_ptr<Communicator> bootstrap)
      : bootstrap_(std::move(bootstrap)), timeout_s_(options.timeout_s), device_(pick_gpu(*bootstrap_)) {
    GAU_CHECK(options.device.is_cuda(), "the NCCL backend works on CUDA tensors, but the communicator was asked for ",
              options.device, "; use backend mpi for CPU tensors");
    GAU_CHECK(options.timeout_s > 0, "distributed: timeout_s must be > 0 seconds, got ", options.timeout_s);
    const ncclUniqueId id = shared_unique_id(*bootstrap_);
    cuda::DeviceGuard guard(device_);
    GAU_NCCL_CHECK(ncclCommInitRank(&comm_, bootstrap_->world_size(), id, bootstrap_->rank()));
    GAU_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    ready_ = std::make_unique<CudaEvent>();
    scratch_ = Tensor::empty({1}, DType::f32, device_);
    watchdog_ = std::make_unique<NcclWatchdog>(comm_, [this](const std::string& reason) { fail(reason); });
  }

  ~NcclCommunicator() override {
    watchdog_->drain();  // still watched: a collective that never ends is aborted, not waited on forever
    watchdog_.reset();
    ncclCommDestroy(comm_);
    // stream_ is left to the process: tensors recorded on it may be freed after the communicator
    // has gone, and the allocator then records an event on it.
  }

  int rank() const override { return bootstrap_->rank(); }
  int world_size() const override { return bootstrap_->world_size(); }
  int local_rank() const override { return bootstrap_->local_rank(); }
  std::string backend() const override { return "nccl"; }
  Device device() const override { return device_; }

  std::unique_ptr<Work> all_reduce(const Tensor& t, ReduceOp op) override {
    check_collective_tensor("all_reduce", t, device_);
    check_reduce_op("all_reduce", t, op);
    return launch(std::string("all_reduce(") + reduce_op_name(op) + ")", t, {t}, [&](cudaStream_t s) {
      return ncclAllReduce(t.data_ptr(), t.data_ptr(), t.numel(), nccl_datatype(t.dtype()), nccl_op(op), comm_, s);
    });
  }

  std::unique_ptr<Work> broadcast(const Tensor& t, int root) override {
    check_collective_tensor("broadcast", t, device_);
    check_root("broadcast", root, world_size());
    return launch("broadcast(from rank " + std::to_string(root) + ")", t, {t}, [&](cudaStream_t s) {
      return ncclBroadcast(t.data_ptr(), t.data_ptr(), t.numel(), nccl_datatype(t.dtype()), root, comm_, s);
    });
  }

  // In place: NCCL reads sendbuff on every rank and writes recvbuff on the root only.
  std::unique_ptr<Work> reduce(const Tensor& t, int root, ReduceOp op) override {
    check_collective_tensor("reduce", t, device_);
    check_reduce_op("reduce", t, op);
    check_root("reduce", root, world_size());
    return launch(std::string("reduce(") + reduce_op_name(op) + ") to rank " + std::to_string(root), t, {t},
                  [&](cudaStream_t s) {
                    return ncclReduce(t.data_ptr(), t.data_ptr(), t.numel(), nccl_datatype(t.dtype()), nccl_op(op),
                                      root, comm_, s);
                  });
  }

  std::unique_ptr<Work> all_gather(const Tensor& out, const Tensor& in) override {
    check_all_gather(out, in, world_size(), device_);
    return launch("all_gather", in, {out, in}, [&](cudaStream_t s) {
      return ncclAllGather(in.data_ptr(), out.data_ptr(), in.numel(), nccl_datatype(in.dtype()), comm_, s);
    });
  }

  std::unique_ptr<Work> reduce_scatter(const Tensor& out, const Tensor& in, ReduceOp op) override {
    check_reduce_scatter(out, in, op, world_size(), device_);
    return launch(std::string("reduce_scatter(") + reduce_op_name(op) + ")", in, {out, in}, [&](cudaStream_t s) {
      return ncclReduceScatter(in.data_ptr(), out.data_ptr(), out.numel(), nccl_datatype(in.dtype()), nccl_op(op),
                               comm_, s);
    });
  }

  // NCCL has no barrier: a one-element all-reduce that the host waits for. It also means every
  // collective queued before it on this rank has finished.
  void barrier() override {
    std::shared_ptr<CudaEvent> done = start("barrier", scratch_, {scratch_}, [&](cudaStream_t s) {
      return ncclAllReduce(scratch_.data_ptr(), scratch_.data_ptr(), 1, ncclFloat32, ncclSum, comm_, s);
    });
    cudaError_t state;
    while ((state = cudaEventQuery(done->get())) == cudaErrorNotReady) std::this_thread::yield();
    GAU_CUDA_CHECK(state);
  }

  [[noreturn]] void abort(const std::string& reason) override { fail(reason); }

 private:
  template <typename Call>
  std::unique_ptr<Work> launch(const std::string& name, const Tensor& described, const std::vector<Tensor>& buffers,
                               Call&& call) {
    return std::make_unique<NcclWork>(start(name, described, buffers, std::forward<Call>(call)), device_);
  }

  // Queues `call` on the communication stream behind the current stream's work; returns the event
  // recorded at its end, which the watchdog watches.
  template <typename Call>
  std::shared_ptr<CudaEvent> start(const std::string& name, const Tensor& described, const std::vector<Tensor>& buffers,
                                   Call&& call) {
    std::lock_guard<std::mutex> lock(launch_mutex_);
    cuda::DeviceGuard guard(device_);
    CollectiveWatch watch{describe_collective(name, described), Deadline(timeout_s_), rank(), world_size()};
    GAU_CUDA_CHECK(cudaEventRecord(ready_->get(), cuda::current_cuda_stream(device_)));
    GAU_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_->get(), 0));
    GAU_NCCL_CHECK(call(stream_));
    auto done = std::make_shared<CudaEvent>();
    GAU_CUDA_CHECK(cudaEventRecord(done->get(), stream_));
    for (const Tensor& t : buffers) record_stream(t, Stream{device_, stream_});
    watchdog_->watch(done, std::move(watch));
    return done;
  }

  // Frees the GPU from the stuck collective, then ends every rank through the bootstrap, which
  // prints the reason.
  [[noreturn]] void fail(const std::string& reason) {
    ncclCommAbort(comm_);
    bootstrap_->abort(reason + " (NCCL on " + device_.str() + ")");
    std::_Exit(1);  // abort() does not return, but GCC does not carry [[noreturn]] through the virtual call
  }

  std::shared_ptr<Communicator> bootstrap_;
  double timeout_s_;
  Device device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<CudaEvent> ready_;
  Tensor scratch_;  // barrier's one element
  std::mutex launch_mutex_;
  std::unique_ptr<NcclWatchdog> watchdog_;
};

}  // namespace

std::shared_ptr<Communicator> make_nccl_communicator(const CommunicatorOptions& options,
                                                     std::shared_ptr<Communicator> bootstrap) {
  GAU_CHECK(bootstrap && bootstrap->device().is_cpu(),
            "make_nccl_communicator: the bootstrap must be a CPU communicator over the same ranks");
  return std::make_shared<NcclCommunicator>(options, std::move(bootstrap));
}

}  // namespace gau::distributed
