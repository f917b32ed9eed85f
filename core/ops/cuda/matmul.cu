#include "core/ops/matmul_kernels.h"

#include <cublasLt.h>

#include <array>
#include <memory>
#include <mutex>

#include "core/ops/copy_kernels.h"
#include "core/ops/elementwise_kernels.h"
#include "core/ops/cuda/loops.cuh"

namespace gau::ops::cuda {

namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // what cuBLAS suggests for Hopper

// One cuBLASLt handle per device, created on first use and kept for the process.
cublasLtHandle_t lt_handle(int device) {
  static std::mutex mu;
  static std::array<cublasLtHandle_t, 64> handles{};
  GAU_CHECK(device >= 0 && device < 64, "matmul: device index ", device, " out of range");
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[device]) {
    DeviceGuard guard(device);
    GAU_CUBLAS_CHECK(cublasLtCreate(&handles[device]));
  }
  return handles[device];
}

// f64 goes through classic cuBLAS (DGEMM): one handle per device; its stream and workspace are
// set per call, so calls on a device are serialised by a mutex.
struct DgemmHandle {
  std::mutex mu;
  cublasHandle_t handle = nullptr;
};
DgemmHandle& dgemm_handle(int device) {
  static std::mutex mu;
  static std::array<DgemmHandle, 64> handles;
  GAU_CHECK(device >= 0 && device < 64, "matmul: device index ", device, " out of range");
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[device].handle) {
    DeviceGuard guard(device);
    GAU_CUBLAS_CHECK(cublasCreate(&handles[device].handle));
  }
  return handles[device];
}

// RAII owners of the cuBLASLt descriptors of one call.
struct DescDeleter {
  void operator()(cublasLtMatmulDescOpaque_t* d) const { cublasLtMatmulDescDestroy(d); }
  void operator()(cublasLtMatrixLayoutOpaque_t* d) const { cublasLtMatrixLayoutDestroy(d); }
  void operator()(cublasLtMatmulPreferenceOpaque_t* d) const { cublasLtMatmulPreferenceDestroy(d); }
};
using MatmulDesc = std::unique_ptr<cublasLtMatmulDescOpaque_t, DescDeleter>;
using Layout = std::unique_ptr<cublasLtMatrixLayoutOpaque_t, DescDeleter>;
using Preference = std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, DescDeleter>;

// One operand as cuBLASLt sees it: a column-major layout, the op that turns it into the wanted
// factor, a batch stride (0 = shared by every batch) and its data pointer.
struct Operand {
  Tensor keep;  // owns a staged copy, if one was made
  const void* ptr;
  uint64_t rows, cols;
  int64_t ld;
  int64_t batch_stride;
  cublasOperation_t op;
};

int64_t product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

// Single stride that walks t's batch dims in out's batch order, or -1 if there is none.
int64_t batch_stride_of(const Tensor& t, const Shape& out_batch) {
  const size_t tb = t.shape().size() - 2;
  if (product(t.shape(), 0, tb) == 1) return 0;
  if (tb > out_batch.size()) return -1;
  // Without broadcasting: t's batch dims (left-padded with 1) equal out's.
  for (size_t i = 0; i < out_batch.size(); ++i) {
    int64_t size = i + tb < out_batch.size() ? 1 : t.shape()[i + tb - out_batch.size()];
    if (size != out_batch[i]) return -1;
  }
  int64_t stride = -1, expect = -1;
  for (size_t i = tb; i-- > 0;) {
    if (t.shape()[i] == 1) continue;
    if (stride < 0) {
      stride = t.strides()[i];
      expect = stride * t.shape()[i];
    } else {
      if (t.strides()[i] != expect) return -1;
      expect *= t.shape()[i];
    }
  }
  return stride;
}

// We want L^T in column-major, where L = trans ? t^T : t (the logical factor).
Operand make_operand(const Tensor& t_in, bool trans, const Shape& out_batch) {
  Tensor t = t_in;
  int64_t bstride = batch_stride_of(t, out_batch);
  const int64_t R = t.size(-2), C = t.size(-1);
  auto unit_ok = [&](const Tensor& x) {
    int64_t sr = R == 1 ? C : x.stride(-2), sc = C == 1 ? 1 : x.stride(-1);
    return (sc == 1 && sr >= std::max<int64_t>(C, 1)) || (x.stride(-2) == 1 && sc >= std::max<int64_t>(R, 1));
  };
  if (bstride == 0 && !unit_ok(t)) {
    // A shared matrix with no unit stride: one contiguous copy of the matrix itself.
    t = contiguous_on_device(Tensor::make_view(t.storage(), t.offset(), {R, C}, {t.stride(-2), t.stride(-1)}, t.dtype()));
  } else if (bstride < 0 || !unit_ok(t)) {
    Shape full = out_batch;
    full.push_back(R);
    full.push_back(C);
    Tensor packed = Tensor::empty(full, t.dtype(), t.device());
    copy_(packed, expand_view(t, full));
    t = packed;
    bstride = product(out_batch, 0, out_batch.size()) == 1 ? 0 : R * C;
  }
  Operand o;
  o.keep = t;
  o.ptr = t.data_ptr();
  o.batch_stride = bstride;
  const int64_t sr = R == 1 ? C : t.stride(-2), sc = C == 1 ? 1 : t.stride(-1);
  if (sc == 1 && sr >= std::max<int64_t>(C, 1)) {
    // Row-major storage: the column-major layout [C, R] with ld sr is t^T.
    o.rows = C, o.cols = R, o.ld = std::max<int64_t>(sr, 1);
    o.op = trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  } else {
    // Column-major storage: the layout [R, C] with ld sc is t itself.
    o.rows = R, o.cols = C, o.ld = std::max<int64_t>(sc, 1);
    o.op = trans ? CUBLAS_OP_N : CUBLAS_OP_T;
  }
  return o;
}

Layout make_layout(cudaDataType_t type, uint64_t rows, uint64_t cols, int64_t ld, int32_t batch, int64_t bstride) {
  cublasLtMatrixLayout_t l = nullptr;
  GAU_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, type, rows, cols, ld));
  Layout owned(l);
  if (batch > 1) {
    GAU_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)));
    GAU_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &bstride,
                                                      sizeof(bstride)));
  }
  return owned;
}

// Largest power of two (up to 256) that divides the address: cuBLASLt's heuristic must not
// assume more alignment than the pointer has (views can start anywhere).
uint32_t alignment_of(const void* p) {
  auto v = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 256;
  while (a > 1 && v % a != 0) a /= 2;
  return a;
}

}  // namespace

void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, const MatmulOptions& opt, double beta) {
  DeviceGuard guard(out.device());
  const Shape out_batch(out.shape().begin(), out.shape().end() - 2);
  const int64_t m = out.size(-2), n = out.size(-1);
  const int64_t k = opt.trans_a ? a.size(-2) : a.size(-1);
  const int64_t batch = product(out_batch, 0, out_batch.size());
  if (out.numel() == 0) return;
  if (k == 0) {
    // An empty sum: out = beta * out.
    if (beta == 0.0) fill_(out, 0.0);
    else cuda::binary_scalar_(Binary::mul, out, beta);
    return;
  }
  GAU_CHECK(batch <= INT32_MAX, "matmul: batch of ", batch, " exceeds cuBLASLt's limit for out ", describe(out));
  cudaStream_t stream = current_cuda_stream(out.device());

  // Row-major C = op(a) op(b) is column-major C^T = op(b)^T op(a)^T: cuBLASLt's A is from b.
  Operand lb = make_operand(b, opt.trans_b, out_batch);
  Operand la = make_operand(a, opt.trans_a, out_batch);

  Tensor workspace = Tensor::empty({static_cast<int64_t>(kWorkspaceBytes)}, DType::b8, out.device());
  if (out.dtype() == DType::f64) {
    DgemmHandle& h = dgemm_handle(out.device().index);
    std::lock_guard<std::mutex> lock(h.mu);
    GAU_CUBLAS_CHECK(cublasSetStream(h.handle, stream));
    GAU_CUBLAS_CHECK(cublasSetWorkspace(h.handle, workspace.data_ptr(), kWorkspaceBytes));
    const double alpha = opt.alpha;
    GAU_CUBLAS_CHECK(cublasDgemmStridedBatched(
        h.handle, lb.op, la.op, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha,
        static_cast<const double*>(lb.ptr), static_cast<int>(lb.ld), lb.batch_stride, static_cast<const double*>(la.ptr),
        static_cast<int>(la.ld), la.batch_stride, &beta, static_cast<double*>(out.data_ptr()), static_cast<int>(n),
        m * n, static_cast<int>(batch)));
    return;
  }

  // Operands and output may differ: bf16/f16 operands into an f32 output (a gradient buffer) is
  // one of cuBLASLt's supported (A/B, C/D) type pairs, with f32 compute and scale throughout.
  auto lt_type = [](const Tensor& t) {
    switch (t.dtype()) {
      case DType::f32: return CUDA_R_32F;
      case DType::bf16: return CUDA_R_16BF;
      case DType::f16: return CUDA_R_16F;
      default: GAU_FAIL("matmul: expected f32, bf16 or f16 for cuBLASLt, got ", describe(t));
    }
  };
  const cudaDataType_t type = lt_type(a), out_type = lt_type(out);
  const cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  const cudaDataType_t scale_type = CUDA_R_32F;

  cublasLtMatmulDesc_t raw_desc = nullptr;
  GAU_CUBLAS_CHECK(cublasLtMatmulDescCreate(&raw_desc, compute, scale_type));
  MatmulDesc desc(raw_desc);
  GAU_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(raw_desc, CUBLASLT_MATMUL_DESC_TRANSA, &lb.op, sizeof(lb.op)));
  GAU_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(raw_desc, CUBLASLT_MATMUL_DESC_TRANSB, &la.op, sizeof(la.op)));

  const int32_t batch32 = static_cast<int32_t>(batch);
  Layout a_layout = make_layout(type, lb.rows, lb.cols, lb.ld, batch32, lb.batch_stride);
  Layout b_layout = make_layout(type, la.rows, la.cols, la.ld, batch32, la.batch_stride);
  Layout c_layout = make_layout(out_type, static_cast<uint64_t>(n), static_cast<uint64_t>(m), n, batch32, m * n);

  cublasLtMatmulPreference_t raw_pref = nullptr;
  GAU_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&raw_pref));
  Preference pref(raw_pref);
  uint64_t ws_bytes = kWorkspaceBytes;
  GAU_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(raw_pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes,
                                                        sizeof(ws_bytes)));
  const uint32_t align_a = alignment_of(lb.ptr), align_b = alignment_of(la.ptr), align_c = alignment_of(out.data_ptr());
  GAU_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a,
                                                        sizeof(align_a)));
  GAU_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b,
                                                        sizeof(align_b)));
  GAU_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c,
                                                        sizeof(align_c)));
  GAU_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(raw_pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c,
                                                        sizeof(align_c)));

  cublasLtHandle_t handle = lt_handle(out.device().index);
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  GAU_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(handle, raw_desc, a_layout.get(), b_layout.get(), c_layout.get(),
                                                  c_layout.get(), raw_pref, 1, &heuristic, &found));
  GAU_CHECK(found > 0, "matmul: cuBLASLt found no algorithm for a ", describe(a), ", b ", describe(b), ", out ",
            describe(out), " (trans_a=", opt.trans_a, ", trans_b=", opt.trans_b, ")");

  const float alpha_f = static_cast<float>(opt.alpha), beta_f = static_cast<float>(beta);
  GAU_CUBLAS_CHECK(cublasLtMatmul(handle, raw_desc, &alpha_f, lb.ptr, a_layout.get(), la.ptr, b_layout.get(), &beta_f,
                                  out.data_ptr(), c_layout.get(), out.data_ptr(), c_layout.get(), &heuristic.algo,
                                  workspace.data_ptr(), kWorkspaceBytes, stream));
}

}  // namespace gau::ops::cuda
