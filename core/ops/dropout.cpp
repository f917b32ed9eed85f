#include "core/ops/dropout.h"

#include <cmath>

#include "core/ops/backend.h"
#include "core/ops/copy.h"
#include "core/ops/dropout_kernels.h"
#include "core/ops/view.h"

namespace gau::ops {

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  GAU_CHECK(is_floating(x.dtype()), "dropout: expected a floating x (f32, f64, bf16, f16), got ", describe(x));
  GAU_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got ", p,
            " (p = 1 would drop everything and scale by infinity)");
  if (p == 0) return x;
  Tensor flat = reshape(contiguous(x), {x.numel()});
  Tensor y;
  if (x.is_cuda()) {
    GAU_CUDA_ONLY(y = cuda::dropout(flat, p, seed, offset));
  } else {
    y = cpu::dropout(flat, p, seed, offset);
  }
  return reshape(y, x.shape());
}

}  // namespace gau::ops
