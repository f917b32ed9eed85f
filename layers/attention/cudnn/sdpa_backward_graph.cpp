// The cuDNN SDPA backward (bprop) graph, as cudnn-frontend lowers its sdpa_backward node into
// backend operations (no bias, padding or dropout; equal heads for q, k and v). cuDNN's engine
// matcher recognises this pattern and runs it as one fused flash-attention bprop:
//
//   softmax_sum = rowsum(dO * O) * 1                          [b,h,n_q,1] f32, non-virtual workspace
//   P  = exp(Q @ K^T * scale - Stats)   [causal: masked before the exp]   virtual f32
//   dV = P^T @ dO                        P^T: reshape of P to [b,h,n_k,n_q] in q's dtype
//   dS = (dO @ V^T - softmax_sum) * P * scale                         virtual f32
//   dK = dS^T @ Q                        dS^T: reshape as for P^T
//   dQ_accum = dS @ K  (f32, non-virtual workspace);  dQ = identity(dQ_accum) in q's dtype
//
// Stats is the natural-log LSE the forward saved, so exp(S - Stats) is the softmax itself; the
// "* 1" is the slot where dropout's inverse scale goes in the pattern cuDNN expects. K and V enter
// transposed (K^T [b,h,s,n_k], V^T [b,h,e,n_k]: the same memory under swapped dims/strides), and
// K is reshaped back to [b,h,n_k,s] for dQ, exactly as the frontend does.
#include <map>
#include <mutex>

#include "layers/attention/cudnn/sdpa_graphs.h"

namespace gau::attention::detail::cudnn_backend {

namespace {

Plan build_backward_plan(cudnnHandle_t handle, const SdpaKey& key) {
  const int64_t b = key.b, h = key.h, n_q = key.n_q, n_k = key.n_k, s = key.s, e = key.e;
  const cudnnDataType_t io = key.dtype == DType::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
  const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
  GraphBuilder g;

  // Graph inputs and outputs, bound in the variant pack.
  auto q = g.tensor("Q", kQ, io, {b, h, n_q, s}, contiguous_strides({b, h, n_q, s}), false);
  auto k_t = g.tensor("K^T", kK, io, {b, h, s, n_k}, {h * n_k * s, n_k * s, 1, s}, false);
  auto v_t = g.tensor("V^T", kV, io, {b, h, e, n_k}, {h * n_k * e, n_k * e, 1, e}, false);
  auto o = g.tensor("O", kO, io, {b, h, n_q, e}, contiguous_strides({b, h, n_q, e}), false);
  auto d_o = g.tensor("dO", kDO, io, {b, h, n_q, e}, contiguous_strides({b, h, n_q, e}), false);
  auto stats = g.tensor("Stats", kStats, f32, {b, h, n_q, 1}, {h * n_q, n_q, 1, 1}, false);
  auto d_q = g.tensor("dQ", kDQ, io, {b, h, n_q, s}, contiguous_strides({b, h, n_q, s}), false);
  auto d_k = g.tensor("dK", kDK, io, {b, h, n_k, s}, contiguous_strides({b, h, n_k, s}), false);
  auto d_v = g.tensor("dV", kDV, io, {b, h, n_k, e}, contiguous_strides({b, h, n_k, e}), false);
  auto scale = g.scalar("attn_scale", kScale);
  auto one = g.scalar("one", kOne);
  auto softmax_sum = g.tensor("softmax_sum", kSoftmaxSum, f32, {b, h, n_q, 1}, {h * n_q, n_q, 1, 1}, false);
  auto dq_accum = g.tensor("dQ_accum", kDQAccum, f32, {b, h, n_q, s}, contiguous_strides({b, h, n_q, s}), false);
  const std::vector<int64_t> sd = {b, h, n_q, n_k}, rd = {b, h, n_q, 1};
  // [b,h,n_k,n_q] view of a [b,h,n_q,n_k] score tile: the transpose fed to dV and dK.
  const std::vector<int64_t> td = {b, h, n_k, n_q}, ts = {h * n_q * n_k, n_q * n_k, 1, n_k};

  // softmax_sum = rowsum(dO * O) * 1
  auto do_o = g.virt("dO_times_O", f32, {b, h, n_q, e});
  g.pointwise("mul_dO_O", CUDNN_POINTWISE_MUL, d_o, o, nullptr, do_o);
  auto row_dot = g.virt("rowsum_dO_O", f32, rd);
  g.reduction("reduce_dO_o", CUDNN_REDUCE_TENSOR_ADD, do_o, row_dot);
  g.pointwise("scale_dropout_inv", CUDNN_POINTWISE_MUL, row_dot, one, nullptr, softmax_sum);

  // P = exp(Q K^T * scale - Stats), masked before the exp when causal.
  auto s_raw = g.virt("S", f32, sd);
  g.matmul("matmul_Q_KT", q, k_t, s_raw);
  auto s_scaled = g.virt("S_scaled", f32, sd);
  g.pointwise("mul_s_attn_scale", CUDNN_POINTWISE_MUL, s_raw, scale, nullptr, s_scaled);
  auto centered = g.virt("S_minus_stats", f32, sd);
  g.pointwise("sub_s_m", CUDNN_POINTWISE_SUB, s_scaled, stats, nullptr, centered);
  if (key.causal) centered = causal_mask(g, centered, g.scalar("mask_value", kMask), sd);
  auto p = g.virt("P", f32, sd);
  g.pointwise("exp_s", CUDNN_POINTWISE_EXP, centered, nullptr, nullptr, p);

  // dV = P^T dO
  auto p_t = g.virt("P^T", io, td, ts);
  g.reshape("reshape_p", p, p_t);
  g.matmul("matmul_pT_dO", p_t, d_o, d_v);

  // dS = (dO V^T - softmax_sum) * P * scale
  auto dp = g.virt("dP", f32, sd);
  g.matmul("matmul_dO_VT", d_o, v_t, dp);
  auto dp_centered = g.virt("dP_minus_softmax_sum", f32, sd);
  g.pointwise("sub_dP_softmax_sum", CUDNN_POINTWISE_SUB, dp, softmax_sum, nullptr, dp_centered);
  auto ds_unscaled = g.virt("dS_unscaled", f32, sd);
  g.pointwise("mul_dP_exp_s", CUDNN_POINTWISE_MUL, dp_centered, p, nullptr, ds_unscaled);
  auto ds = g.virt("dS", f32, sd);
  g.pointwise("mul_dS_attn_scale", CUDNN_POINTWISE_MUL, ds_unscaled, scale, nullptr, ds);

  // dK = dS^T Q
  auto ds_t = g.virt("dS^T", io, td, ts);
  g.reshape("reshape_dS", ds, ds_t);
  g.matmul("matmul_dST_Q", ds_t, q, d_k);

  // dQ = dS K, accumulated in f32 across key tiles, then converted.
  auto k = g.virt("K", io, {b, h, n_k, s}, {h * n_k * s, n_k * s, s, 1});
  g.reshape("reshape_k", k_t, k);
  g.matmul("matmul_dS_K", ds, k, dq_accum);
  g.pointwise("identity_dQ", CUDNN_POINTWISE_IDENTITY, dq_accum, nullptr, nullptr, d_q);

  return g.build_plan(handle, "SDPA backward graph for " + describe(key));
}

}  // namespace

const Plan& sdpa_backward_plan(cudnnHandle_t handle, const SdpaKey& key) {
  static std::mutex mu;
  static std::map<SdpaKey, Plan> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, build_backward_plan(handle, key)).first;
  return it->second;
}

}  // namespace gau::attention::detail::cudnn_backend
