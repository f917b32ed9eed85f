#include "core/ops/rope.h"

#include <cmath>
#include <vector>

#include "core/ops/backend.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/rope_kernels.h"
#include "core/ops/view.h"

namespace gau::ops {
namespace {

Tensor apply(const Tensor& x, const Tensor& table, int64_t position_offset, bool inverse, const char* op) {
  GAU_CHECK(is_floating(x.dtype()), op, ": expected a floating x (f32, f64, bf16, f16), got ", describe(x));
  GAU_CHECK(x.dim() >= 2, op, ": x must be [..., n, s] (positions along dim -2), got ", describe(x));
  const int64_t n = x.size(-2), s = x.size(-1);
  GAU_CHECK(s % 2 == 0, op, ": the rotated width s (last dim of x) must be even, got s = ", s, " in ", describe(x));
  GAU_CHECK(table.defined() && table.dim() == 2 && (table.dtype() == DType::f32 || table.dtype() == DType::f64), op,
            ": table must be an f32 or f64 [n_max, rot_dim] from rope_table, got ",
            table.defined() ? describe(table) : std::string("undefined"));
  const int64_t r = table.size(1);
  GAU_CHECK(r % 2 == 0 && r >= 2 && r <= s, op, ": the table's rot_dim ", r,
            " must be even and at most x's width s = ", s, "; x ", describe(x), ", table ", describe(table));
  GAU_CHECK(position_offset >= 0 && position_offset + n <= table.size(0), op, ": positions ", position_offset, " .. ",
            position_offset + n - 1, " of x ", describe(x), " need a table of at least ", position_offset + n,
            " rows, got ", describe(table));
  GAU_CHECK(table.device() == x.device(), op, ": table must be on x's device, got x ", describe(x), " and table ",
            describe(table));
  Tensor rows = reshape(contiguous(x), {x.numel() / s, s}), tab = contiguous(table);
  Tensor y;
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(y = cuda::rope(rows, tab, n, position_offset, inverse));
  } else {
    y = cpu::rope(rows, tab, n, position_offset, inverse);
  }
  return reshape(y, x.shape());
}

}  // namespace

Tensor rope_table(int64_t n_max, int64_t rot_dim, double base, DType dtype, Device device) {
  GAU_CHECK(n_max >= 0, "rope_table: n_max must be >= 0, got ", n_max);
  GAU_CHECK(rot_dim > 0 && rot_dim % 2 == 0,
            "rope_table: rot_dim must be even and > 0 (features are rotated in pairs), got ", rot_dim);
  GAU_CHECK(base > 0 && std::isfinite(base), "rope_table: base must be finite and > 0, got ", base);
  GAU_CHECK(dtype == DType::f32 || dtype == DType::f64, "rope_table: dtype must be f32 or f64, got ",
            dtype_name(dtype));
  const int64_t h = rot_dim / 2;
  std::vector<double> v(static_cast<size_t>(n_max * rot_dim));
  for (int64_t i = 0; i < h; ++i) {
    const double theta = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(rot_dim));
    for (int64_t p = 0; p < n_max; ++p) {
      const double a = static_cast<double>(p) * theta;
      v[p * rot_dim + i] = std::cos(a);
      v[p * rot_dim + h + i] = std::sin(a);
    }
  }
  return to_device(to_dtype(from_vector<double>(v, {n_max, rot_dim}), dtype), device);
}

Tensor rope(const Tensor& x, const Tensor& table, int64_t position_offset) {
  return apply(x, table, position_offset, false, "rope");
}

Tensor rope_backward(const Tensor& d_y, const Tensor& table, int64_t position_offset) {
  return apply(d_y, table, position_offset, true, "rope_backward");
}

}  // namespace gau::ops
