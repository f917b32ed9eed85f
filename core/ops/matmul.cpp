#include "core/ops/matmul.h"

#include "core/ops/backend.h"
#include "core/ops/matmul_kernels.h"

namespace gau::ops {
namespace {

const char* yes_no(bool v) { return v ? "true" : "false"; }

// Validates a and b and returns the result shape [batch..., m, n].
Shape result_shape(const Tensor& a, const Tensor& b, const MatmulOptions& opt, const char* op) {
  GAU_CHECK(a.dim() >= 2 && b.dim() >= 2, op, ": expected operands of rank >= 2, got a ", describe(a), " and b ",
            describe(b));
  GAU_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: a ", describe(a), ", b ", describe(b));
  GAU_CHECK(is_floating(a.dtype()), op, ": expected floating operands, got a ", describe(a), ", b ", describe(b));
  GAU_CHECK(a.device() == b.device(), op, ": devices differ: a ", describe(a), ", b ", describe(b));
  const int64_t m = opt.trans_a ? a.size(-1) : a.size(-2);
  const int64_t ka = opt.trans_a ? a.size(-2) : a.size(-1);
  const int64_t kb = opt.trans_b ? b.size(-1) : b.size(-2);
  const int64_t n = opt.trans_b ? b.size(-2) : b.size(-1);
  GAU_CHECK(ka == kb, op, ": inner dimensions differ: op(a) is [", m, ", ", ka, "] and op(b) is [", kb, ", ", n,
            "] (a ", describe(a), ", b ", describe(b), ", trans_a=", yes_no(opt.trans_a),
            ", trans_b=", yes_no(opt.trans_b), ")");
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape out = broadcast_shapes(ba, bb, op);
  out.push_back(m);
  out.push_back(n);
  return out;
}

void run(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta) {
  if (out.is_cuda()) { GAU_CUDA_ONLY(return cuda::matmul_into(out, a, b, opt, beta)); }
  cpu::matmul_into(out, a, b, opt, beta);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, const MatmulOptions& opt) {
  Shape shape = result_shape(a, b, opt, "matmul");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  run(out, a, b, opt, 0.0);
  return out;
}

void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta) {
  Shape shape = result_shape(a, b, opt, "matmul_into");
  GAU_CHECK(out.shape() == shape, "matmul_into: out must have the result's shape ", shape, ", got ", describe(out),
            " (a ", describe(a), ", b ", describe(b), ")");
  GAU_CHECK(out.device() == a.device(), "matmul_into: out ", describe(out), " must be on the operands' device (a ",
            describe(a), ")");
  GAU_CHECK(out.dtype() == a.dtype() || matmul_accumulates_in(out.dtype(), a.dtype()), "matmul_into: out ",
            describe(out), " must have the operands' dtype, or be f32 for bf16/f16 operands (a ", describe(a), ")");
  GAU_CHECK(out.is_contiguous(), "matmul_into: out must be contiguous, got ", describe(out), " with strides ",
            out.strides());
  run(out, a, b, opt, beta);
  out.bump_version();
}

Shape matmul_shape(const Tensor& a, const Tensor& b, const MatmulOptions& opt) {
  return result_shape(a, b, opt, "matmul");
}

bool matmul_accumulates_in(DType out, DType operands) {
  return out == operands || (out == DType::f32 && (operands == DType::bf16 || operands == DType::f16));
}

Tensor bmm(const Tensor& a, const Tensor& b, const MatmulOptions& opt) {
  GAU_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0), "bmm: expected 3-D operands with the same batch, got a ",
            describe(a), " and b ", describe(b));
  return matmul(a, b, opt);
}

}  // namespace gau::ops
