#pragma once
// The cuDNN SDPA forward and backward graphs (sdpa_forward_graph.cpp, sdpa_backward_graph.cpp),
// built once per (device, dtype, shape, causal) and cached with their plan and workspace size.
// Tensors are bound at execution by these unique ids.
#include <string>
#include <tuple>
#include <vector>

#include "core/dtype.h"
#include "layers/attention/cudnn/backend_descriptors.h"

namespace gau::attention::detail::cudnn_backend {

enum SdpaUid : int64_t {
  kQ = 1,       // [b, h, n_q, s] q's dtype
  kK,           // [b, h, n_k, s]
  kV,           // [b, h, n_k, e]
  kO,           // [b, h, n_q, e]
  kStats,       // [b, h, n_q, 1] f32: natural-log LSE of the scaled scores per row
  kScale,       // by-value f32 softmax scale
  kMask,        // by-value f32 value of masked scores (causal only): mask_value()
  kDO,          // [b, h, n_q, e]
  kDQ,          // [b, h, n_q, s]
  kDK,          // [b, h, n_k, s]
  kDV,          // [b, h, n_k, e]
  kOne,         // by-value f32 1 (the dropout-scale slot of the backward pattern, no dropout here)
  kSoftmaxSum,  // [b, h, n_q, 1] f32 workspace: rowsum(dO * O)
  kDQAccum,     // [b, h, n_q, s] f32 workspace: dQ accumulated across key tiles
};

struct SdpaKey {
  int device;
  DType dtype;  // bf16 or f16
  int64_t b, h, n_q, n_k, s, e;
  bool causal;  // top-left aligned (row >= col); callers only pass it with n_q == n_k
  bool operator<(const SdpaKey& o) const {
    return std::tie(device, dtype, b, h, n_q, n_k, s, e, causal) <
           std::tie(o.device, o.dtype, o.b, o.h, o.n_q, o.n_k, o.s, o.e, o.causal);
  }
};

// "b=.. h=.. n_q=.. n_k=.. s=.. e=.. [causal]" for messages.
std::string describe(const SdpaKey& key);

// Causal mask as cudnn-frontend lowers it (a diagonal band with right bound 0, top-left aligned):
// row = GEN_INDEX(scores, axis 2), col = GEN_INDEX(scores, axis 3), keep = row >= col,
// returns select(keep, scores, mask). scores: virtual f32 [b, h, n_q, n_k]; mask: by-value scalar.
DescPtr causal_mask(GraphBuilder& g, const DescPtr& scores, const DescPtr& mask, const std::vector<int64_t>& dims);

// Cached plans (built on first use under a lock; the returned reference stays valid).
const Plan& sdpa_forward_plan(cudnnHandle_t handle, const SdpaKey& key);
const Plan& sdpa_backward_plan(cudnnHandle_t handle, const SdpaKey& key);

}  // namespace gau::attention::detail::cudnn_backend
