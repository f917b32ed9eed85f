#include "core/ops/index.h"

#include "core/ops/backend.h"
#include "core/ops/index_kernels.h"

namespace gau::ops {
namespace {

void check_index_tensor(const Tensor& idx, const char* op, const char* name) {
  GAU_CHECK(idx.dtype() == DType::i32 || idx.dtype() == DType::i64, op, ": ", name,
            " must be i32 or i64, got ", describe(idx));
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  GAU_CHECK(weight.dim() == 2 && is_floating(weight.dtype()), "embedding: weight must be a floating [V, d] tensor, got ",
            describe(weight));
  check_index_tensor(ids, "embedding", "ids");
  GAU_CHECK(ids.device() == weight.device(), "embedding: devices differ: weight ", describe(weight), ", ids ",
            describe(ids));
  if (weight.is_cuda()) { GAU_CUDA_ONLY(return cuda::embedding(weight, ids)); }
  return cpu::embedding(weight, ids);
}

Tensor embedding_backward(const Tensor& d_y, const Tensor& ids, int64_t num_embeddings) {
  check_index_tensor(ids, "embedding_backward", "ids");
  GAU_CHECK(is_floating(d_y.dtype()) && d_y.dim() == ids.dim() + 1 &&
                Shape(d_y.shape().begin(), d_y.shape().end() - 1) == ids.shape(),
            "embedding_backward: d_y must be a floating [ids..., d] tensor, got d_y ", describe(d_y), " for ids ",
            describe(ids));
  GAU_CHECK(num_embeddings >= 0, "embedding_backward: num_embeddings must be >= 0, got ", num_embeddings);
  GAU_CHECK(ids.device() == d_y.device(), "embedding_backward: devices differ: d_y ", describe(d_y), ", ids ",
            describe(ids));
  if (d_y.is_cuda()) { GAU_CUDA_ONLY(return cuda::embedding_backward(d_y, ids, num_embeddings)); }
  return cpu::embedding_backward(d_y, ids, num_embeddings);
}

void index_add_(const Tensor& out, const Tensor& index, const Tensor& src) {
  check_index_tensor(index, "index_add_", "index");
  GAU_CHECK(index.dim() == 1, "index_add_: index must be 1-D, got ", describe(index));
  GAU_CHECK(out.dim() >= 1 && is_floating(out.dtype()), "index_add_: out must be a floating tensor of rank >= 1, got ",
            describe(out));
  Shape want = out.shape();
  want[0] = index.size(0);
  GAU_CHECK(src.shape() == want && src.dtype() == out.dtype(), "index_add_: src must be ", dtype_name(out.dtype()),
            want, " (index length, then out's trailing dims), got src ", describe(src), " for out ", describe(out),
            " and index ", describe(index));
  GAU_CHECK(src.device() == out.device() && index.device() == out.device(), "index_add_: devices differ: out ",
            describe(out), ", index ", describe(index), ", src ", describe(src));
  if (out.is_cuda()) {
    GAU_CUDA_ONLY(cuda::index_add_(out, index, src));
  } else {
    cpu::index_add_(out, index, src);
  }
  out.bump_version();
}

Tensor gather_rows(const Tensor& x, const Tensor& index) {
  GAU_CHECK(x.dim() == 2, "gather_rows: x must be [N, C], got ", describe(x));
  check_index_tensor(index, "gather_rows", "index");
  GAU_CHECK(index.dim() == 1 && index.size(0) == x.size(0), "gather_rows: index must be [N] = [", x.size(0),
            "], got ", describe(index), " for x ", describe(x));
  GAU_CHECK(index.device() == x.device(), "gather_rows: devices differ: x ", describe(x), ", index ", describe(index));
  if (x.is_cuda()) { GAU_CUDA_ONLY(return cuda::gather_rows(x, index)); }
  return cpu::gather_rows(x, index);
}

}  // namespace gau::ops
