#include "core/ops/loss.h"

#include "core/ops/backend.h"
#include "core/ops/loss_kernels.h"

namespace gau::ops {
namespace {

void check_inputs(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt, const char* op) {
  GAU_CHECK(logits.dim() == 2 && is_floating(logits.dtype()), op, ": logits must be a floating [N, C] tensor, got ",
            describe(logits));
  GAU_CHECK(targets.dtype() == DType::i32 || targets.dtype() == DType::i64, op, ": targets must be i32 or i64, got ",
            describe(targets));
  GAU_CHECK(targets.dim() == 1 && targets.size(0) == logits.size(0), op, ": targets must be [N] = [", logits.size(0),
            "], got ", describe(targets), " for logits ", describe(logits));
  GAU_CHECK(targets.device() == logits.device(), op, ": devices differ: logits ", describe(logits), ", targets ",
            describe(targets));
  GAU_CHECK(opt.label_smoothing >= 0.0 && opt.label_smoothing <= 1.0, op, ": label_smoothing must be in [0, 1], got ",
            opt.label_smoothing);
  GAU_CHECK(logits.size(1) > 0 || logits.size(0) == 0, op, ": logits need at least one class, got ",
            describe(logits));
}

}  // namespace

CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt) {
  check_inputs(logits, targets, opt, "cross_entropy");
  if (logits.is_cuda()) { GAU_CUDA_ONLY(return cuda::cross_entropy(logits, targets, opt)); }
  return cpu::cross_entropy(logits, targets, opt);
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                              double d_loss, const CrossEntropyOptions& opt) {
  check_inputs(logits, targets, opt, "cross_entropy_backward");
  GAU_CHECK(lse.dim() == 1 && lse.size(0) == logits.size(0) && is_floating(lse.dtype()) &&
                lse.device() == logits.device(),
            "cross_entropy_backward: lse must be the forward's floating [N] = [", logits.size(0), "] tensor, got ",
            describe(lse), " for logits ", describe(logits));
  GAU_CHECK(count >= 0 && count <= logits.size(0), "cross_entropy_backward: count must be in [0, N = ",
            logits.size(0), "], got ", count);
  if (logits.is_cuda()) {
    GAU_CUDA_ONLY(return cuda::cross_entropy_backward(logits, targets, lse, count, d_loss, opt));
  }
  return cpu::cross_entropy_backward(logits, targets, lse, count, d_loss, opt);
}

}  // namespace gau::ops
