#include "distributed/mpi/mpi_communicator.h"

#include <mpi.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops/copy.h"
#include "distributed/collective_args.h"
#include "distributed/collective_watch.h"
#include "distributed/mpi/mpi_check.h"
#include "distributed/mpi/mpi_runtime.h"
#include "distributed/mpi/mpi_work.h"

namespace gau::distributed {

namespace {

using mpi::MpiWork;

// The MPI type that carries `dtype`'s elements. bf16 and f16 travel as their 16-bit patterns
// (they are never reduced as such: see the header).
MPI_Datatype mpi_datatype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::f64:
      return MPI_DOUBLE;
    case DType::bf16:
    case DType::f16:
      return MPI_UINT16_T;
    case DType::i32:
      return MPI_INT32_T;
    case DType::i64:
      return MPI_INT64_T;
    case DType::b8:
      break;
  }
  GAU_FAIL("MPI: no MPI type for dtype ", dtype_name(dtype));
}

bool reduced_in_f32(DType dtype) { return dtype == DType::bf16 || dtype == DType::f16; }

// MPI counts are ints.
int mpi_count(const char* collective, const Tensor& t) {
  GAU_CHECK(t.numel() <= INT_MAX, collective, ": MPI counts elements in an int, and ", describe(t), " has more than ",
            INT_MAX, "; split it");
  return static_cast<int>(t.numel());
}

// t /= n, in place, for the floating dtypes the reduction itself ran in (f32, f64).
void divide_in_place(const Tensor& t, int n) {
  if (t.dtype() == DType::f64) {
    double* p = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] /= n;
  } else {
    float* p = t.data<float>();
    const float d = static_cast<float>(n);
    for (int64_t i = 0; i < t.numel(); ++i) p[i] /= d;
  }
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(const CommunicatorOptions& options) : timeout_s_(options.timeout_s) {
    GAU_CHECK(options.device.is_cpu(), "the MPI backend works on CPU tensors, but the communicator was asked for ",
              options.device, "; use backend nccl for CUDA tensors");
    GAU_CHECK(options.timeout_s > 0, "distributed: timeout_s must be > 0 seconds, got ", options.timeout_s);
    mpi::mpi_runtime();
    mpi::check_mpi_thread("the MPI communicator");
    GAU_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm_));
    GAU_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    GAU_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    GAU_MPI_CHECK(MPI_Comm_size(comm_, &world_size_));
    local_rank_ = mpi::node_local_rank(comm_);
  }

  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  int local_rank() const override { return local_rank_; }
  std::string backend() const override { return "mpi"; }
  Device device() const override { return Device::cpu(); }

  std::unique_ptr<Work> all_reduce(const Tensor& t, ReduceOp op) override {
    check_collective_tensor("all_reduce", t, Device::cpu());
    check_reduce_op("all_reduce", t, op);
    const std::string name = std::string("all_reduce(") + reduce_op_name(op) + ")";
    const Tensor buffer = reduced_in_f32(t.dtype()) ? ops::to_dtype(t, DType::f32) : t;
    const int count = mpi_count("all_reduce", buffer);
    MPI_Request request;
    start(name, [&] {
      return MPI_Iallreduce(MPI_IN_PLACE, buffer.data_ptr(), count, mpi_datatype(buffer.dtype()), MPI_SUM, comm_,
                            &request);
    });
    return work(name, t, request, {t, buffer}, [t, buffer, op, n = world_size_] {
      if (op == ReduceOp::avg) divide_in_place(buffer, n);
      if (!buffer.same(t)) ops::copy_(t, buffer);
    });
  }

  std::unique_ptr<Work> broadcast(const Tensor& t, int root) override {
    check_collective_tensor("broadcast", t, Device::cpu());
    check_root("broadcast", root, world_size_);
    const std::string name = "broadcast(from rank " + std::to_string(root) + ")";
    const int count = mpi_count("broadcast", t);
    MPI_Request request;
    start(name, [&] { return MPI_Ibcast(t.data_ptr(), count, mpi_datatype(t.dtype()), root, comm_, &request); });
    return work(name, t, request, {t}, nullptr);
  }

  std::unique_ptr<Work> reduce(const Tensor& t, int root, ReduceOp op) override {
    check_collective_tensor("reduce", t, Device::cpu());
    check_reduce_op("reduce", t, op);
    check_root("reduce", root, world_size_);
    const std::string name =
        std::string("reduce(") + reduce_op_name(op) + ") to rank " + std::to_string(root);
    const Tensor buffer = reduced_in_f32(t.dtype()) ? ops::to_dtype(t, DType::f32) : t;
    const int count = mpi_count("reduce", buffer);
    const bool is_root = rank_ == root;
    MPI_Request request;
    start(name, [&] {
      // The root sums in place; the others only send, so their t is never written.
      return MPI_Ireduce(is_root ? MPI_IN_PLACE : buffer.data_ptr(), is_root ? buffer.data_ptr() : nullptr, count,
                         mpi_datatype(buffer.dtype()), MPI_SUM, root, comm_, &request);
    });
    std::function<void()> finish;
    if (is_root)
      finish = [t, buffer, op, n = world_size_] {
        if (op == ReduceOp::avg) divide_in_place(buffer, n);
        if (!buffer.same(t)) ops::copy_(t, buffer);
      };
    return work(name, t, request, {t, buffer}, std::move(finish));
  }

  std::unique_ptr<Work> all_gather(const Tensor& out, const Tensor& in) override {
    check_all_gather(out, in, world_size_, Device::cpu());
    const int count = mpi_count("all_gather", in);
    mpi_count("all_gather", out);
    const MPI_Datatype type = mpi_datatype(in.dtype());
    MPI_Request request;
    start("all_gather",
          [&] { return MPI_Iallgather(in.data_ptr(), count, type, out.data_ptr(), count, type, comm_, &request); });
    return work("all_gather", in, request, {out, in}, nullptr);
  }

  std::unique_ptr<Work> reduce_scatter(const Tensor& out, const Tensor& in, ReduceOp op) override {
    check_reduce_scatter(out, in, op, world_size_, Device::cpu());
    const std::string name = std::string("reduce_scatter(") + reduce_op_name(op) + ")";
    const bool widen = reduced_in_f32(in.dtype());
    const Tensor send = widen ? ops::to_dtype(in, DType::f32) : in;
    const Tensor receive = widen ? Tensor::empty(out.shape(), DType::f32) : out;
    mpi_count("reduce_scatter", send);
    const int count = mpi_count("reduce_scatter", receive);
    MPI_Request request;
    start(name, [&] {
      return MPI_Ireduce_scatter_block(send.data_ptr(), receive.data_ptr(), count, mpi_datatype(send.dtype()), MPI_SUM,
                                       comm_, &request);
    });
    return work(name, in, request, {send, receive, out}, [out, receive, op, n = world_size_] {
      if (op == ReduceOp::avg) divide_in_place(receive, n);
      if (!receive.same(out)) ops::copy_(out, receive);
    });
  }

  void barrier() override {
    MPI_Request request;
    start("barrier", [&] { return MPI_Ibarrier(comm_, &request); });
    mpi::wait_or_abort(request, watch("barrier"), comm_);
  }

  [[noreturn]] void abort(const std::string& reason) override { mpi::abort_world(comm_, reason); }

 private:
  // Runs the MPI call that starts a collective: from a thread allowed to, and with MPI's error
  // (say, a broken connection to a rank) raised as gau::Error naming the collective.
  template <typename StartFn>
  void start(const std::string& name, StartFn&& call) {
    mpi::check_mpi_thread(name.c_str());
    const int rc = call();
    GAU_CHECK(rc == MPI_SUCCESS, name, " could not start on rank ", rank_, " of ", world_size_, ": ",
              mpi::mpi_error_string(rc));
  }

  CollectiveWatch watch(const std::string& what) const {
    return CollectiveWatch{what, Deadline(timeout_s_), rank_, world_size_};
  }

  std::unique_ptr<Work> work(const std::string& name, const Tensor& described, MPI_Request request,
                             std::vector<Tensor> buffers, std::function<void()> finish) {
    return std::make_unique<MpiWork>(request, watch(describe_collective(name, described)), comm_, std::move(buffers),
                                     std::move(finish));
  }

  double timeout_s_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
};

}  // namespace

std::shared_ptr<Communicator> make_mpi_communicator(const CommunicatorOptions& options) {
  return std::make_shared<MpiCommunicator>(options);
}

}  // namespace gau::distributed
