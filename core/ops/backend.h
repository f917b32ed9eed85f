#pragma once
// Backend selection for op dispatchers. With CUDA compiled in, GAU_CUDA_ONLY(stmt) runs stmt;
// without it, it throws an error saying so (and naming the op's device), like a loud stub backend.
#include "core/error.h"

#ifdef GAU_WITH_CUDA
#define GAU_CUDA_ONLY(...) __VA_ARGS__
#else
#define GAU_CUDA_ONLY(...) \
  GAU_FAIL("this op was given a CUDA tensor, but gau was built without CUDA (configure with -DGAU_CUDA=ON)")
#endif

// Declares an op family's backend kernels once, with the same signatures in gau::ops::cpu
// (defined under core/ops/cpu/) and gau::ops::cuda (defined under core/ops/cuda/, built with
// CUDA only; the dispatchers reach it through GAU_CUDA_ONLY). Each core/ops/<family>_kernels.h
// holds one such list, which the family's dispatcher and both backends include.
#define GAU_BACKEND_KERNELS(...) \
  namespace gau::ops::cpu {      \
  __VA_ARGS__                    \
  }                              \
  namespace gau::ops::cuda {     \
  __VA_ARGS__                    \
  }
