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
