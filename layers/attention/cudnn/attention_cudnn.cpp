// cuDNN backend of softmax attention (attention_backend.h): the SDPA forward and backward graphs
// (sdpa_forward_graph.cpp, sdpa_backward_graph.cpp) built with cuDNN 9's backend API, cached per
// (device, dtype, shape, causal), and run here on gau's current stream.
//
// The forward saves O and the natural-log LSE in gau's format, so the two backends can stand in
// for each other. Which calls the graphs take is decided by route_cudnn (cudnn_route.h, unit-tested
// on CPU); the others run gau's CUDA kernels. A cuDNN version with known SDPA bugs is refused by
// cudnn_supports, so that a user who asked for backend cudnn learns it before any work is done.
#include <cudnn.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda/context.h"
#include "core/ops/factory.h"
#include "layers/attention/attention_backend.h"
#include "layers/attention/cudnn/sdpa_graphs.h"
#include "layers/attention/cudnn_route.h"

namespace gau::attention::detail {

namespace {

namespace cb = cudnn_backend;

bool aligned(const std::vector<const Tensor*>& tensors) {
  return std::all_of(tensors.begin(), tensors.end(),
                     [](const Tensor* t) { return reinterpret_cast<uintptr_t>(t->data_ptr()) % 16 == 0; });
}

cb::SdpaKey key_for(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt) {
  return cb::SdpaKey{q.device().index, q.dtype(), q.size(0), q.size(1), q.size(2), k.size(2), q.size(3), v.size(3),
                     opt.causal};
}

CudnnCall call_for(SdpaPass pass, const cb::SdpaKey& key, bool all_aligned) {
  CudnnCall call;
  call.version = cudnnGetVersion();
  call.pass = pass;
  call.dtype = key.dtype;
  call.n_q = key.n_q;
  call.n_k = key.n_k;
  call.causal = key.causal;
  call.aligned = all_aligned;
  return call;
}

// The handle for q's device, bound to gau's current stream there.
cudnnHandle_t bound_handle(const Tensor& q) {
  cudnnHandle_t handle = cb::handle_for(q.device().index);
  cb::check(cudnnSetStream(handle, cuda::current_cuda_stream(q.device())), "cudnnSetStream",
            "handle for device " + std::to_string(q.device().index));
  return handle;
}

}  // namespace

bool cudnn_supports(DType dtype, int64_t s, int64_t e, const ResolvedOptions& opt, std::string* why_not) {
  std::string why;
  if (opt.kernel != Kernel::softmax)
    why = std::string("cuDNN runs softmax attention only, got kernel ") + kernel_name(opt.kernel);
  else if (dtype != DType::bf16 && dtype != DType::f16)
    why = std::string("cuDNN SDPA runs bf16 and f16, got ") + dtype_name(dtype);
  else if (!((s == 64 || s == 128) && (e == 64 || e == 128)))
    why = "cuDNN SDPA here runs s and e in {64, 128}, got s=" + std::to_string(s) + " e=" + std::to_string(e);
  else if (opt.key_lengths.defined() || opt.key_mask.defined() || opt.scale_by_valid_length)
    why = "the cuDNN graph has no padding mask (key_lengths, key_mask, scale_by_valid_length)";
  else if (opt.log_length_base > 0)
    why = "the cuDNN graph takes one scale, not one per batch row (log_length_base)";
  else if (opt.bias.kind != RelativeBias::Kind::none)
    why = "the cuDNN graph has no relative bias";
  else if (opt.dropout_p > 0)
    why = "the cuDNN graph has no dropout";
  else
    why = cudnn_version_defect(cudnnGetVersion(), dtype);
  if (!why.empty() && why_not != nullptr) *why_not = why;
  return why.empty();
}

ForwardResult forward_cudnn(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt) {
  std::string why;
  GAU_CHECK(cudnn_supports(q.dtype(), q.size(3), v.size(3), opt, &why), "attention forward (cuDNN): ", why);
  GAU_CHECK(q.is_contiguous() && k.is_contiguous() && v.is_contiguous(),
            "attention forward (cuDNN): expected contiguous q, k, v, got q ", describe(q), ", k ", describe(k),
            ", v ", describe(v));
  const cb::SdpaKey key = key_for(q, k, v, opt);
  if (!route_cudnn(call_for(SdpaPass::forward, key, aligned({&q, &k, &v}))).cudnn) return forward_cuda(q, k, v, opt);

  cuda::DeviceGuard guard(q.device());
  cudnnHandle_t handle = bound_handle(q);
  const cb::Plan& plan = cb::sdpa_forward_plan(handle, key);

  ForwardResult res;
  res.o = Tensor::empty({key.b, key.h, key.n_q, key.e}, q.dtype(), q.device());
  res.lse = Tensor::empty({key.b, key.h, key.n_q}, DType::f32, q.device());
  Tensor workspace = Tensor::empty({std::max<int64_t>(plan.workspace, 1)}, DType::b8, q.device());
  float scale = static_cast<float>(opt.scale);
  float mask = cb::mask_value();
  std::vector<int64_t> uids = {cb::kQ, cb::kK, cb::kV, cb::kO, cb::kStats, cb::kScale};
  std::vector<void*> ptrs = {q.data_ptr(), k.data_ptr(), v.data_ptr(), res.o.data_ptr(), res.lse.data_ptr(), &scale};
  if (key.causal) {
    uids.push_back(cb::kMask);
    ptrs.push_back(&mask);
  }
  cb::execute(handle, plan, uids, ptrs, workspace.data_ptr(), "SDPA forward for " + cb::describe(key));
  return res;
}

BackwardResult backward_cudnn(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                              const Tensor& d_o, const ResolvedOptions& opt) {
  std::string why;
  GAU_CHECK(cudnn_supports(q.dtype(), q.size(3), v.size(3), opt, &why), "attention backward (cuDNN): ", why);
  GAU_CHECK(q.is_contiguous() && k.is_contiguous() && v.is_contiguous() && o.is_contiguous() &&
                d_o.is_contiguous() && lse.is_contiguous(),
            "attention backward (cuDNN): expected contiguous q, k, v, o, d_o, lse, got q ", describe(q), ", k ",
            describe(k), ", v ", describe(v), ", o ", describe(o), ", d_o ", describe(d_o), ", lse ", describe(lse));
  const cb::SdpaKey key = key_for(q, k, v, opt);
  GAU_CHECK(o.dtype() == q.dtype() && d_o.dtype() == q.dtype() && o.numel() == key.b * key.h * key.n_q * key.e &&
                d_o.numel() == o.numel(),
            "attention backward (cuDNN): expected o and d_o [", key.b, ", ", key.h, ", ", key.n_q, ", ", key.e,
            "] in q's dtype, got o ", describe(o), ", d_o ", describe(d_o));
  GAU_CHECK(lse.dtype() == DType::f32 && lse.numel() == key.b * key.h * key.n_q,
            "attention backward (cuDNN): expected lse [", key.b, ", ", key.h, ", ", key.n_q, "] f32, got ",
            describe(lse));
  if (!route_cudnn(call_for(SdpaPass::backward, key, aligned({&q, &k, &v, &o, &lse, &d_o}))).cudnn)
    return backward_cuda(q, k, v, o, lse, d_o, opt);
  const size_t version = cudnnGetVersion();

  cuda::DeviceGuard guard(q.device());
  cudnnHandle_t handle = bound_handle(q);
  const cb::Plan& plan = cb::sdpa_backward_plan(handle, key);

  BackwardResult res;
  res.d_q = Tensor::empty({key.b, key.h, key.n_q, key.s}, q.dtype(), q.device());
  res.d_k = Tensor::empty({key.b, key.h, key.n_k, key.s}, q.dtype(), q.device());
  res.d_v = Tensor::empty({key.b, key.h, key.n_k, key.e}, q.dtype(), q.device());
  // The graph's own f32 tensors (cudnn-frontend carves them out of its workspace): rowsum(dO * O)
  // and the dQ accumulator, which cuDNN clears itself from 9.6 on and expects zeroed before.
  Tensor softmax_sum = Tensor::empty({key.b, key.h, key.n_q, 1}, DType::f32, q.device());
  const Shape accum_shape{key.b, key.h, key.n_q, key.s};
  Tensor dq_accum = version < 90600 ? ops::zeros(accum_shape, DType::f32, q.device())
                                    : Tensor::empty(accum_shape, DType::f32, q.device());
  Tensor workspace = Tensor::empty({std::max<int64_t>(plan.workspace, 1)}, DType::b8, q.device());
  float scale = static_cast<float>(opt.scale);
  float one = 1.0f;
  float mask = cb::mask_value();
  std::vector<int64_t> uids = {cb::kQ,  cb::kK,  cb::kV,     cb::kO,   cb::kDO,          cb::kStats,  cb::kDQ,
                               cb::kDK, cb::kDV, cb::kScale, cb::kOne, cb::kSoftmaxSum, cb::kDQAccum};
  std::vector<void*> ptrs = {q.data_ptr(),        k.data_ptr(),        v.data_ptr(),          o.data_ptr(),
                             d_o.data_ptr(),      lse.data_ptr(),      res.d_q.data_ptr(),    res.d_k.data_ptr(),
                             res.d_v.data_ptr(),  &scale,              &one,                  softmax_sum.data_ptr(),
                             dq_accum.data_ptr()};
  if (key.causal) {
    uids.push_back(cb::kMask);
    ptrs.push_back(&mask);
  }
  cb::execute(handle, plan, uids, ptrs, workspace.data_ptr(), "SDPA backward for " + cb::describe(key));
  return res;
}

}  // namespace gau::attention::detail
