#include "core/ops/matmul_kernels.h"

#include <algorithm>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/cpu/blas.h"
#include "core/ops/cpu/parallel.h"

namespace gau::ops::cpu {
namespace {

// OpenBLAS runs a GEMM single-threaded below this many multiply-adds (its
// GEMM_MULTITHREAD_THRESHOLD); for such small GEMMs we thread over the batch instead.
constexpr double kSmallGemm = 65536.0 * 4;

// One operand as BLAS sees it: a row-major matrix (leading dim `ld`), maybe transposed, at
// element offsets `offsets[i]` for output batch i.
struct Operand {
  Tensor t;  // keeps any contiguous copy alive
  bool trans = false;
  int64_t ld = 1;
  std::vector<int64_t> offsets;
};

// `x` stores op(x) = [rows, cols] as [rows, cols] (trans = false) or [cols, rows] (trans = true).
// A view whose last two dims are row-major or column-major goes to BLAS as it is: a column-major
// matrix is the row-major transpose, so only the trans flag changes. Anything else is copied.
Operand make_operand(const Tensor& x, bool trans, const Shape& batch) {
  Operand op;
  op.t = x;
  const int64_t r0 = x.size(-2), c0 = x.size(-1);
  const int64_t s0 = x.stride(-2), s1 = x.stride(-1);
  if ((s1 == 1 || c0 <= 1) && (s0 >= std::max<int64_t>(c0, 1) || r0 <= 1)) {
    op.trans = trans;
    op.ld = r0 <= 1 ? std::max<int64_t>(c0, 1) : s0;
  } else if ((s0 == 1 || r0 <= 1) && (s1 >= std::max<int64_t>(r0, 1) || c0 <= 1)) {
    op.trans = !trans;
    op.ld = c0 <= 1 ? std::max<int64_t>(r0, 1) : s1;
  } else {
    op.t = contiguous(x);
    op.trans = trans;
    op.ld = std::max<int64_t>(c0, 1);
  }
  // Batch offsets: x's batch dims align to the right of `batch`; broadcast dims step by 0.
  const int64_t nb = static_cast<int64_t>(batch.size());
  const int64_t xb = op.t.dim() - 2;
  std::vector<int64_t> step(nb, 0);
  for (int64_t i = 0; i < xb; ++i) {
    const int64_t d = nb - xb + i;
    step[d] = op.t.size(i) == 1 ? 0 : op.t.stride(i);
  }
  const int64_t count = shape_numel(batch);
  op.offsets.resize(count);
  std::vector<int64_t> idx(nb, 0);
  int64_t off = 0;
  for (int64_t n = 0; n < count; ++n) {
    op.offsets[n] = off;
    for (int64_t d = nb - 1; d >= 0; --d) {  // odometer increment
      off += step[d];
      if (++idx[d] < batch[d]) break;
      off -= step[d] * batch[d];
      idx[d] = 0;
    }
  }
  return op;
}

// The f32/f64 path: no copies for row- or column-major operands.
template <typename T>
void matmul_blas(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta) {
  const int64_t m = out.size(-2), n = out.size(-1);
  const int64_t k = opt.trans_a ? a.size(-2) : a.size(-1);
  const Shape batch(out.shape().begin(), out.shape().end() - 2);
  const int64_t count = shape_numel(batch);
  if (count == 0 || m == 0 || n == 0) return;
  Operand A = make_operand(a, opt.trans_a, batch);
  Operand B = make_operand(b, opt.trans_b, batch);
  const T* pa = A.t.template data<T>();
  const T* pb = B.t.template data<T>();
  T* pc = out.data<T>();

  // A shared right operand and a left operand whose batches are stacked rows of one matrix
  // ([batch..., m, k] row-major, e.g. activations times a weight): one GEMM with batch * m rows.
  bool fold = count > 1 && !A.trans;
  for (int64_t i = 0; fold && i < count; ++i)
    fold = B.offsets[i] == B.offsets[0] && A.offsets[i] == A.offsets[0] + i * m * A.ld;
  if (fold) {
    gemm<T>(false, B.trans, count * m, n, k, opt.alpha, pa + A.offsets[0], A.ld, pb + B.offsets[0], B.ld, beta, pc,
            n);
    return;
  }
  auto one = [&](int64_t i) {
    gemm<T>(A.trans, B.trans, m, n, k, opt.alpha, pa + A.offsets[i], A.ld, pb + B.offsets[i], B.ld, beta,
            pc + i * m * n, n);
  };
  const double macs = static_cast<double>(m) * n * k;
  if (count > 1 && macs <= kSmallGemm) {
#pragma omp parallel for schedule(static) if (macs * count >= kParallelMin)
    for (int64_t i = 0; i < count; ++i) one(i);
  } else {
    for (int64_t i = 0; i < count; ++i) one(i);
  }
}

}  // namespace

void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta) {
  if (out.dtype() == DType::f32 && a.dtype() != DType::f32) {
    // bf16/f16 operands into an f32 buffer: the f32 GEMM's result goes in unrounded.
    return matmul_blas<float>(out, to_dtype(a, DType::f32), to_dtype(b, DType::f32), opt, beta);
  }
  switch (out.dtype()) {
    case DType::f32: return matmul_blas<float>(out, a, b, opt, beta);
    case DType::f64: return matmul_blas<double>(out, a, b, opt, beta);
    default: break;
  }
  // bf16/f16: OpenBLAS has no half-precision GEMM we can rely on here, so compute in f32 (the
  // accumulation precision the CUDA path uses too) and round once at the end.
  Tensor a32 = to_dtype(a, DType::f32), b32 = to_dtype(b, DType::f32);
  Tensor c32 = beta != 0.0 ? to_dtype(out, DType::f32) : Tensor::empty(out.shape(), DType::f32, out.device());
  matmul_blas<float>(c32, a32, b32, opt, beta);
  copy_(out, c32);
}

}  // namespace gau::ops::cpu
