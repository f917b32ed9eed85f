#include "distributed/single_communicator.h"

#include <cstdio>
#include <cstdlib>

#include "core/ops/copy.h"
#include "core/ops/view.h"
#include "distributed/collective_args.h"
#include "distributed/collective_watch.h"

namespace gau::distributed {

namespace {

class CompletedWork final : public Work {
 public:
  void wait() override {}
};

class SingleCommunicator final : public Communicator {
 public:
  explicit SingleCommunicator(Device device) : device_(device) {}

  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string backend() const override { return "single"; }
  Device device() const override { return device_; }

  std::unique_ptr<Work> all_reduce(const Tensor& t, ReduceOp op) override {
    check_collective_tensor("all_reduce", t, device_);
    check_reduce_op("all_reduce", t, op);
    return std::make_unique<CompletedWork>();
  }

  std::unique_ptr<Work> broadcast(const Tensor& t, int root) override {
    check_collective_tensor("broadcast", t, device_);
    check_root("broadcast", root, 1);
    return std::make_unique<CompletedWork>();
  }

  std::unique_ptr<Work> reduce(const Tensor& t, int root, ReduceOp op) override {
    check_collective_tensor("reduce", t, device_);
    check_reduce_op("reduce", t, op);
    check_root("reduce", root, 1);
    return std::make_unique<CompletedWork>();
  }

  std::unique_ptr<Work> all_gather(const Tensor& out, const Tensor& in) override {
    check_all_gather(out, in, 1, device_);
    ops::copy_(ops::view(out, {out.numel()}), ops::view(in, {in.numel()}));
    return std::make_unique<CompletedWork>();
  }

  std::unique_ptr<Work> reduce_scatter(const Tensor& out, const Tensor& in, ReduceOp op) override {
    check_reduce_scatter(out, in, op, 1, device_);
    ops::copy_(ops::view(out, {out.numel()}), ops::view(in, {in.numel()}));
    return std::make_unique<CompletedWork>();
  }

  void barrier() override {}

  [[noreturn]] void abort(const std::string& reason) override {
    std::fprintf(stderr, "%s\n", abort_line(0, 1, reason).c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(1);
  }

 private:
  Device device_;
};

}  // namespace

std::shared_ptr<Communicator> make_single_communicator(Device device) {
  return std::make_shared<SingleCommunicator>(device);
}

}  // namespace gau::distributed
