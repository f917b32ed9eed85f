// Elementwise op dispatch: validate (errors name the op, shapes, dtypes, devices), then run the
// CPU or CUDA kernel. Backends share the signatures of the public ops.
#include "core/ops/elementwise.h"

#include <cmath>
#include <string>
#include <string_view>

#include "core/ops/backend.h"
#include "core/ops/copy.h"
#include "core/ops/elementwise_kernels.h"

namespace gau::ops {

const char* unary_name(Unary op) {
  switch (op) {
    case Unary::neg:
      return "neg";
    case Unary::exp:
      return "exp";
    case Unary::log:
      return "log";
    case Unary::sqrt:
      return "sqrt";
    case Unary::rsqrt:
      return "rsqrt";
    case Unary::abs:
      return "abs";
    case Unary::tanh:
      return "tanh";
    case Unary::sigmoid:
      return "sigmoid";
    case Unary::relu:
      return "relu";
    case Unary::relu2:
      return "relu2";
    case Unary::silu:
      return "silu";
    case Unary::gelu:
      return "gelu";
    case Unary::erf:
      return "erf";
    case Unary::laplace:
      return "laplace";
  }
  return "unary";
}

const char* binary_name(Binary op) {
  switch (op) {
    case Binary::add:
      return "add";
    case Binary::sub:
      return "sub";
    case Binary::mul:
      return "mul";
    case Binary::div:
      return "div";
    case Binary::pow:
      return "pow";
    case Binary::maximum:
      return "maximum";
    case Binary::minimum:
      return "minimum";
  }
  return "binary";
}

namespace {

const char* compare_name(Compare op) {
  switch (op) {
    case Compare::eq:
      return "eq";
    case Compare::ne:
      return "ne";
    case Compare::lt:
      return "lt";
    case Compare::le:
      return "le";
    case Compare::gt:
      return "gt";
    case Compare::ge:
      return "ge";
  }
  return "compare";
}

void check_same_dtype_device(std::string_view op, const char* na, const Tensor& a, const char* nb, const Tensor& b) {
  GAU_CHECK(a.dtype() == b.dtype(), op, ": ", na, " and ", nb, " must have the same dtype, got ", na, " ", describe(a),
            " and ", nb, " ", describe(b));
  GAU_CHECK(a.device() == b.device(), op, ": ", na, " and ", nb, " must be on the same device, got ", na, " ",
            describe(a), " and ", nb, " ", describe(b));
}

void check_floating(std::string_view op, const Tensor& x) {
  GAU_CHECK(is_floating(x.dtype()), op, ": expected a floating dtype (f32, f64, bf16, f16), got ", describe(x));
}

void check_unary_dtype(Unary op, std::string_view name, const Tensor& x) {
  bool integer_ok = (op == Unary::neg || op == Unary::abs) && (x.dtype() == DType::i32 || x.dtype() == DType::i64);
  GAU_CHECK(is_floating(x.dtype()) || integer_ok, name, ": expected a floating dtype (f32, f64, bf16, f16), got ",
            describe(x));
}

// add/sub/mul/maximum/minimum also run on i32/i64; div and pow need a floating dtype.
void check_binary_dtype(Binary op, std::string_view name, const Tensor& a) {
  bool integer_ok = op != Binary::div && op != Binary::pow && (a.dtype() == DType::i32 || a.dtype() == DType::i64);
  GAU_CHECK(is_floating(a.dtype()) || integer_ok, name, ": expected ",
            op == Binary::div || op == Binary::pow ? "a floating dtype (f32, f64, bf16, f16)"
                                                   : "a numeric dtype (f32, f64, bf16, f16, i32, i64)",
            ", got ", describe(a));
}

void check_scalar_fits(std::string_view op, const Tensor& a, double s) {
  GAU_CHECK(is_floating(a.dtype()) || std::trunc(s) == s, op, ": the scalar ", s,
            " is not an integer, so it cannot take the dtype of ", describe(a));
}

// b must broadcast to a's shape without changing it (in-place ops and masks).
void check_broadcasts_to(std::string_view op, const char* na, const Tensor& a, const char* nb, const Tensor& b) {
  GAU_CHECK(broadcast_shapes(a.shape(), b.shape(), std::string(op).c_str()) == a.shape(), op, ": ", nb, " ", describe(b),
            " does not broadcast to the shape of ", na, " ", describe(a));
}

// Writing through a view whose elements share memory (an expanded dim) is order dependent.
void check_writable(std::string_view op, const Tensor& a) {
  for (int64_t d = 0; d < a.dim(); ++d)
    GAU_CHECK(a.shape()[d] <= 1 || a.strides()[d] != 0, op, ": cannot write in place into ", describe(a),
              ", whose dim ", d, " is expanded (stride 0, strides ", a.strides(), "); make it contiguous first");
}

// In-place ops read b while writing a: if b is another view of a's memory (a.T, a shifted slice),
// later elements would read values already overwritten, so b is read from a copy. The same view
// (a op= a) is safe elementwise.
Tensor stable_source(const Tensor& a, const Tensor& b) {
  bool same_view = b.offset() == a.offset() && b.shape() == a.shape() && b.strides() == a.strides();
  return b.storage() == a.storage() && !same_view ? clone(b) : b;
}

// A per-column parameter: p [d] with d = x.size(-1).
void check_column_param(std::string_view op, const Tensor& x, const char* name, const Tensor& p) {
  check_same_dtype_device(op, "x", x, name, p);
  GAU_CHECK(x.dim() >= 1 && p.dim() == 1 && p.shape()[0] == x.shape().back(), op, ": expected ", name,
            " of shape [d] with d the last dim of x, got x ", describe(x), " and ", name, " ", describe(p));
}

}  // namespace

Tensor unary(Unary op, const Tensor& x) {
  check_unary_dtype(op, unary_name(op), x);
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::unary(op, x));
  }
  return cpu::unary(op, x);
}

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& d_y) {
  std::string name = std::string(unary_name(op)) + "_backward";
  check_unary_dtype(op, name, x);
  check_same_dtype_device(name, "x", x, "d_y", d_y);
  GAU_CHECK(x.shape() == d_y.shape(), name, ": d_y must have the shape of x, got x ", describe(x), " and d_y ",
            describe(d_y));
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::unary_backward(op, x, d_y));
  }
  return cpu::unary_backward(op, x, d_y);
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_same_dtype_device(name, "a", a, "b", b);
  check_binary_dtype(op, name, a);
  if (a.shape() != b.shape()) broadcast_shapes(a.shape(), b.shape(), name);  // throws if they don't
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::binary(op, a, b));
  }
  return cpu::binary(op, a, b);
}

Tensor binary_scalar(Binary op, const Tensor& a, double s) {
  const char* name = binary_name(op);
  check_binary_dtype(op, name, a);
  check_scalar_fits(name, a, s);
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::binary_scalar(op, a, s));
  }
  return cpu::binary_scalar(op, a, s);
}

void binary_(Binary op, const Tensor& a, const Tensor& b) {
  std::string name = std::string(binary_name(op)) + "_";
  check_same_dtype_device(name, "a", a, "b", b);
  check_binary_dtype(op, name, a);
  check_broadcasts_to(name, "a", a, "b", b);
  check_writable(name, a);
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(cuda::binary_(op, a, stable_source(a, b)));
  } else {
    cpu::binary_(op, a, stable_source(a, b));
  }
  a.bump_version();
}

void binary_scalar_(Binary op, const Tensor& a, double s) {
  std::string name = std::string(binary_name(op)) + "_";
  check_binary_dtype(op, name, a);
  check_scalar_fits(name, a, s);
  check_writable(name, a);
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(cuda::binary_scalar_(op, a, s));
  } else {
    cpu::binary_scalar_(op, a, s);
  }
  a.bump_version();
}

void axpy_(const Tensor& a, const Tensor& b, double alpha) {
  check_same_dtype_device("axpy_", "a", a, "b", b);
  check_floating("axpy_", a);
  check_broadcasts_to("axpy_", "a", a, "b", b);
  check_writable("axpy_", a);
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(cuda::axpy_(a, stable_source(a, b), alpha));
  } else {
    cpu::axpy_(a, stable_source(a, b), alpha);
  }
  a.bump_version();
}

Tensor compare(Compare op, const Tensor& a, const Tensor& b) {
  const char* name = compare_name(op);
  check_same_dtype_device(name, "a", a, "b", b);
  broadcast_shapes(a.shape(), b.shape(), name);
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::compare(op, a, b));
  }
  return cpu::compare(op, a, b);
}

Tensor compare_scalar(Compare op, const Tensor& a, double s) {
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::compare_scalar(op, a, s));
  }
  return cpu::compare_scalar(op, a, s);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  GAU_CHECK(cond.dtype() == DType::b8, "where: cond must be a bool tensor, got ", describe(cond));
  GAU_CHECK(cond.device() == a.device(), "where: cond and a must be on the same device, got cond ", describe(cond),
            " and a ", describe(a));
  check_same_dtype_device("where", "a", a, "b", b);
  broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  if (a.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::where(cond, a, b));
  }
  return cpu::where(cond, a, b);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  GAU_CHECK(mask.dtype() == DType::b8, "masked_fill: mask must be a bool tensor, got ", describe(mask));
  GAU_CHECK(mask.device() == x.device(), "masked_fill: x and mask must be on the same device, got x ", describe(x),
            " and mask ", describe(mask));
  check_broadcasts_to("masked_fill", "x", x, "mask", mask);
  if (x.dtype() != DType::b8) check_scalar_fits("masked_fill", x, value);
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::masked_fill(x, mask, value));
  }
  return cpu::masked_fill(x, mask, value);
}

Tensor bias_act(const Tensor& x, const Tensor& bias, Activation act) {
  check_floating("bias_act", x);
  check_column_param("bias_act", x, "bias", bias);
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::bias_act(x, bias, act));
  }
  return cpu::bias_act(x, bias, act);
}

Tensor bias_act_backward(const Tensor& x, const Tensor& bias, Activation act, const Tensor& d_y) {
  check_floating("bias_act_backward", x);
  check_column_param("bias_act_backward", x, "bias", bias);
  check_same_dtype_device("bias_act_backward", "x", x, "d_y", d_y);
  GAU_CHECK(x.shape() == d_y.shape(), "bias_act_backward: d_y must have the shape of x, got x ", describe(x),
            " and d_y ", describe(d_y));
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::bias_act_backward(x, bias, act, d_y));
  }
  return cpu::bias_act_backward(x, bias, act, d_y);
}

Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  check_floating("scale_offset", x);
  check_column_param("scale_offset", x, "gamma", gamma);
  check_column_param("scale_offset", x, "beta", beta);
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::scale_offset(x, gamma, beta));
  }
  return cpu::scale_offset(x, gamma, beta);
}

}  // namespace gau::ops
