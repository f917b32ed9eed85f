// The cuDNN SDPA forward graph, as cudnn-frontend lowers its sdpa node into backend operations:
//
//   S = Q @ K^T (f32)  ->  S * scale (by-value scalar)  ->  [causal: select(row >= col, S, mask)]
//   m = rowmax(S); E = exp(S - m); l = rowsum(E); Stats = m + log(l)  (the LSE gau saves)
//   P = E / l (computed in f32, held in q's dtype);  O = P @ V
//
// The scale is a by-value operand, so one plan serves every scale. K enters as K^T: the same
// memory under swapped dims/strides.
#include <map>
#include <mutex>

#include "layers/attention/cudnn/sdpa_graphs.h"

namespace gau::attention::detail::cudnn_backend {

std::string describe(const SdpaKey& key) {
  return "b=" + std::to_string(key.b) + " h=" + std::to_string(key.h) + " n_q=" + std::to_string(key.n_q) +
         " n_k=" + std::to_string(key.n_k) + " s=" + std::to_string(key.s) + " e=" + std::to_string(key.e) +
         (key.dtype == DType::bf16 ? " bf16" : " f16") + (key.causal ? " causal" : "");
}

DescPtr causal_mask(GraphBuilder& g, const DescPtr& scores, const DescPtr& mask, const std::vector<int64_t>& dims) {
  auto row = g.virt("row_index", CUDNN_DATA_INT32, dims);
  auto col = g.virt("col_index", CUDNN_DATA_INT32, dims);
  g.pointwise("gen_row_index", CUDNN_POINTWISE_GEN_INDEX, scores, nullptr, nullptr, row, CUDNN_DATA_FLOAT, 2);
  g.pointwise("gen_col_index", CUDNN_POINTWISE_GEN_INDEX, scores, nullptr, nullptr, col, CUDNN_DATA_FLOAT, 3);
  auto keep = g.virt("row_ge_col", CUDNN_DATA_BOOLEAN, dims);
  g.pointwise("row_ge_col", CUDNN_POINTWISE_CMP_GE, row, col, nullptr, keep, CUDNN_DATA_BOOLEAN);
  auto masked = g.virt("causal_scores", CUDNN_DATA_FLOAT, dims);
  g.pointwise("causal_select", CUDNN_POINTWISE_BINARY_SELECT, scores, mask, keep, masked);
  return masked;
}

namespace {

Plan build_forward_plan(cudnnHandle_t handle, const SdpaKey& key) {
  const int64_t b = key.b, h = key.h, n_q = key.n_q, n_k = key.n_k, s = key.s, e = key.e;
  const cudnnDataType_t io = key.dtype == DType::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
  const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
  GraphBuilder g;
  auto q = g.tensor("Q", kQ, io, {b, h, n_q, s}, {h * n_q * s, n_q * s, s, 1}, false);
  auto k_t = g.tensor("K^T", kK, io, {b, h, s, n_k}, {h * n_k * s, n_k * s, 1, s}, false);
  auto v = g.tensor("V", kV, io, {b, h, n_k, e}, {h * n_k * e, n_k * e, e, 1}, false);
  auto o = g.tensor("O", kO, io, {b, h, n_q, e}, {h * n_q * e, n_q * e, e, 1}, false);
  auto stats = g.tensor("Stats", kStats, f32, {b, h, n_q, 1}, {h * n_q, n_q, 1, 1}, false);
  auto scale = g.scalar("attn_scale", kScale);
  const std::vector<int64_t> sd = {b, h, n_q, n_k}, rd = {b, h, n_q, 1};

  auto s_raw = g.virt("S", f32, sd);
  g.matmul("matmul_Q_KT", q, k_t, s_raw);
  auto scores = g.virt("S_scaled", f32, sd);
  g.pointwise("mul_s_attn_scale", CUDNN_POINTWISE_MUL, s_raw, scale, nullptr, scores);
  if (key.causal) scores = causal_mask(g, scores, g.scalar("mask_value", kMask), sd);
  auto row_max = g.virt("row_max", f32, rd);
  g.reduction("reduce_max", CUDNN_REDUCE_TENSOR_MAX, scores, row_max);
  auto shifted = g.virt("S_minus_max", f32, sd);
  g.pointwise("sub_max", CUDNN_POINTWISE_SUB, scores, row_max, nullptr, shifted);
  auto expd = g.virt("exp_S", f32, sd);
  g.pointwise("exp", CUDNN_POINTWISE_EXP, shifted, nullptr, nullptr, expd);
  auto row_sum = g.virt("row_sum", f32, rd);
  g.reduction("reduce_sum", CUDNN_REDUCE_TENSOR_ADD, expd, row_sum);
  auto log_sum = g.virt("log_row_sum", f32, rd);
  g.pointwise("log", CUDNN_POINTWISE_LOG, row_sum, nullptr, nullptr, log_sum);
  g.pointwise("add_stats", CUDNN_POINTWISE_ADD, row_max, log_sum, nullptr, stats);
  // P is computed in f32 but stored in the I/O type: the engines take P.V's A operand only in
  // bf16/f16 (cudnn-frontend sets the softmax output to q's dtype before bmm2 for this reason).
  auto probs = g.virt("P", io, sd);
  g.pointwise("div_sum", CUDNN_POINTWISE_DIV, expd, row_sum, nullptr, probs);
  g.matmul("matmul_P_V", probs, v, o);
  return g.build_plan(handle, "SDPA forward graph for " + describe(key));
}

}  // namespace

const Plan& sdpa_forward_plan(cudnnHandle_t handle, const SdpaKey& key) {
  static std::mutex mu;
  static std::map<SdpaKey, Plan> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, build_forward_plan(handle, key)).first;
  return it->second;
}

}  // namespace gau::attention::detail::cudnn_backend
