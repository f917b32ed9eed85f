#pragma once
// Which attention calls of backend cudnn the cuDNN SDPA graphs run, as pure functions of the
// loaded cuDNN version, the dtype and the shapes, so that the rules are unit-tested without a GPU
// (tests/layers/attention/cudnn_route_test.cpp). No cuDNN header is needed here.
//
// Two kinds of limits, with two outcomes for a user who asked for backend cudnn:
//   - a cuDNN version with known wrong results for every call the graphs could take (9.10.0 and
//     9.10.1, bf16/f16 SDPA): refused up front with an error naming the version, since no call
//     would ever run on cuDNN (cudnn_version_defect);
//   - a call the fused graph does not take, or takes wrongly on some versions: that call runs on
//     gau's own CUDA kernels, which compute the same function and save the same LSE, so a forward
//     on one backend and a backward on the other agree (route_cudnn).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace gau::attention::detail {

// cudnnGetVersion()'s encoding for cuDNN 9: major * 10000 + minor * 100 + patch (9.10.1 = 91001).
std::string cudnn_version_name(size_t version);  // "9.10.1"

// Why cuDNN `version` must not run SDPA in `dtype` at all, or empty when it may.
std::string cudnn_version_defect(size_t version, DType dtype);

enum class SdpaPass { forward, backward };

struct CudnnCall {
  size_t version = 0;  // the loaded cuDNN, as cudnnGetVersion() reports it
  SdpaPass pass = SdpaPass::forward;
  DType dtype = DType::bf16;
  int64_t n_q = 0, n_k = 0;
  bool causal = false;
  bool aligned = true;  // every tensor's data 16-byte aligned (the graphs declare 16)
};

struct CudnnRoute {
  bool cudnn = true;   // true: the cuDNN graph runs the call; false: gau's CUDA kernels do
  std::string reason;  // why not, when !cudnn
};

// The backend for one call whose options cudnn_supports() accepted. It applies
// cudnn_version_defect too, so that it is the whole rule on its own; with backend cudnn a defective
// version has already been refused, by cudnn_supports, before this is asked.
CudnnRoute route_cudnn(const CudnnCall& call);

}  // namespace gau::attention::detail
