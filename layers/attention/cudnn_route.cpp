// The routing rules of backend cudnn: see cudnn_route.h. Each rule names its source.
#include "layers/attention/cudnn_route.h"

namespace gau::attention::detail {

std::string cudnn_version_name(size_t version) {
  return std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100);
}

std::string cudnn_version_defect(size_t version, DType dtype) {
  // cuDNN 9.10.0 and 9.10.1 compute wrong bf16/f16 SDPA results (forward and backward);
  // cudnn-frontend refuses these versions and asks for 9.10.2.
  const bool half = dtype == DType::bf16 || dtype == DType::f16;
  if (half && (version == 91000 || version == 91001))
    return "cuDNN " + cudnn_version_name(version) + " (the one loaded) has known bugs in bf16/f16 SDPA; " +
           "upgrade to cuDNN 9.10.2 or newer";
  return "";
}

CudnnRoute route_cudnn(const CudnnCall& call) {
  const bool backward = call.pass == SdpaPass::backward;
  if (std::string defect = cudnn_version_defect(call.version, call.dtype); !defect.empty()) return {false, defect};
  if (call.causal && call.n_q != call.n_k)
    return {false, "causal with n_q != n_k: gau aligns the mask to the end, the graph's row >= col to the start"};
  if (!call.aligned) return {false, "a tensor's data is not 16-byte aligned (the graphs declare 16)"};
  // The fused bprop refuses a single query against a single key (cudnn-frontend rejects it too).
  if (backward && call.n_q == 1 && call.n_k == 1) return {false, "the cuDNN backward does not take n_q = n_k = 1"};
  // Up to 9.15.0 the bprop reads the padded part of the last 128-key tile unless a padding mask
  // is in the graph (cudnn-frontend adds one, "workaround padding mask", for version <= 9.15.0).
  // This graph has none: such calls run on gau's kernels.
  if (backward && call.n_k % 128 != 0 && call.version <= 91500)
    return {false, "cuDNN " + cudnn_version_name(call.version) + " backward with n_k = " + std::to_string(call.n_k) +
                       " (not a multiple of 128) needs a padding mask this graph does not have (fixed in 9.15.1)"};
  return {true, ""};
}

}  // namespace gau::attention::detail
