#include "distributed/collective_args.h"

#include <cstdint>
#include <sstream>

#include "core/error.h"

namespace gau::distributed {

namespace {

std::string human_bytes(size_t bytes) {
  std::ostringstream os;
  if (bytes < 1024) {
    os << bytes << " B";
  } else if (bytes < 1024 * 1024) {
    os << bytes / 1024.0 << " KiB";
  } else {
    os << bytes / (1024.0 * 1024.0) << " MiB";
  }
  return os.str();
}

bool overlap(const Tensor& a, const Tensor& b) {
  const auto* a0 = static_cast<const char*>(a.data_ptr());
  const auto* b0 = static_cast<const char*>(b.data_ptr());
  return a0 < b0 + b.nbytes() && b0 < a0 + a.nbytes();
}

void check_pair(const char* collective, const Tensor& out, const Tensor& in, Device device) {
  check_collective_tensor(collective, out, device);
  check_collective_tensor(collective, in, device);
  GAU_CHECK(out.dtype() == in.dtype(), collective, ": out and in must have one dtype, got out ", describe(out),
            " and in ", describe(in));
  GAU_CHECK(!overlap(out, in), collective, ": out and in must not overlap (out ", describe(out), ", in ", describe(in),
            ")");
}

}  // namespace

const char* reduce_op_name(ReduceOp op) { return op == ReduceOp::sum ? "sum" : "avg"; }

std::string describe_collective(const std::string& collective, const Tensor& t) {
  std::ostringstream os;
  os << collective << " of " << dtype_name(t.dtype()) << '[' << t.numel() << "] (" << human_bytes(t.nbytes()) << ')';
  return os.str();
}

void check_collective_tensor(const char* collective, const Tensor& t, Device device) {
  GAU_CHECK(t.defined(), collective, ": expected a defined tensor, got an undefined one");
  GAU_CHECK(t.dtype() != DType::b8, collective, ": collectives carry f32, f64, bf16, f16, i32 and i64, got ",
            describe(t));
  GAU_CHECK(t.device() == device, collective, ": the communicator works on ", device, ", but the tensor is ",
            describe(t));
  GAU_CHECK(t.is_contiguous(), collective, ": collectives work in place on contiguous tensors, got a strided view ",
            describe(t), " with strides ", t.strides(), " (make it contiguous, or use the flat buffer it views)");
}

void check_reduce_op(const char* collective, const Tensor& t, ReduceOp op) {
  GAU_CHECK(op != ReduceOp::avg || is_floating(t.dtype()), collective,
            ": avg needs a floating dtype (the mean of integers is not one), got ", describe(t), "; use sum");
}

void check_root(const char* collective, int root, int world_size) {
  GAU_CHECK(root >= 0 && root < world_size, collective, ": root ", root, " is not a rank of this world of ", world_size);
}

void check_all_gather(const Tensor& out, const Tensor& in, int world_size, Device device) {
  check_pair("all_gather", out, in, device);
  GAU_CHECK(out.numel() == world_size * in.numel(), "all_gather: out must hold world_size (", world_size, ") x in's ",
            in.numel(), " elements, got out ", describe(out));
}

void check_reduce_scatter(const Tensor& out, const Tensor& in, ReduceOp op, int world_size, Device device) {
  check_pair("reduce_scatter", out, in, device);
  check_reduce_op("reduce_scatter", in, op);
  GAU_CHECK(in.numel() == world_size * out.numel(), "reduce_scatter: in must hold world_size (", world_size,
            ") x out's ", out.numel(), " elements, got in ", describe(in));
}

}  // namespace gau::distributed
