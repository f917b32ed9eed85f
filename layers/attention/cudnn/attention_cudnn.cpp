// cuDNN backend of softmax attention (attention_backend.h): the SDPA forward graph built with
// cuDNN 9's backend descriptors (cudnn.h; no frontend headers), the way cudnn-frontend lowers its
// sdpa node, and cached per (shape, dtype, causal) with its plan and workspace size:
//
//   S = Q @ K^T (f32)  ->  S * scale (by-value scalar)  ->  [causal: select(row >= col, S, -inf)]
//   m = rowmax(S); E = exp(S - m); l = rowsum(E); Stats = m + log(l)  (the LSE gau saves)
//   O = (E / l) @ V
//
// The scale is a by-value operand of the graph, so one plan serves every scale.
// Backward: the forward saves O and the natural-log LSE exactly as the gau kernels do, so
// backward_cudnn runs gau's recompute-backward (backward_cuda) on them; a cuDNN bprop graph is
// not built here. Causal attention with n_q != n_k (gau aligns the mask to the end; the graph's
// row >= col mask is aligned to the start) also runs on the gau kernels.
#include <cudnn.h>

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "core/cuda/context.h"
#include "layers/attention/attention_backend.h"

namespace gau::attention::detail {

namespace {

#define GAU_CUDNN_CHECK(stmt)                                                                               \
  do {                                                                                                      \
    cudnnStatus_t gau_cudnn_status_ = (stmt);                                                               \
    GAU_CHECK(gau_cudnn_status_ == CUDNN_STATUS_SUCCESS, "attention (cuDNN): ", #stmt, " failed at ",       \
              __FILE__, ":", __LINE__, ": ", cudnnGetErrorString(gau_cudnn_status_));                       \
  } while (0)

// One backend descriptor, destroyed with its owner.
class Desc {
 public:
  explicit Desc(cudnnBackendDescriptorType_t type) { GAU_CUDNN_CHECK(cudnnBackendCreateDescriptor(type, &d_)); }
  ~Desc() { cudnnBackendDestroyDescriptor(d_); }
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  cudnnBackendDescriptor_t get() const { return d_; }
  template <typename V>
  Desc& set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, const V* values, int64_t count = 1) {
    GAU_CUDNN_CHECK(cudnnBackendSetAttribute(d_, name, type, count, values));
    return *this;
  }
  Desc& set_desc(cudnnBackendAttributeName_t name, const Desc& other) {
    cudnnBackendDescriptor_t o = other.get();
    return set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, &o);
  }
  void finalize() { GAU_CUDNN_CHECK(cudnnBackendFinalize(d_)); }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};
using DescPtr = std::shared_ptr<Desc>;

enum Uid : int64_t { kQ = 1, kK, kV, kO, kStats, kScale, kNegInf, kFirstVirtual = 100 };

// Builds the operation graph, keeping every descriptor alive until the plan is finalised.
class GraphBuilder {
 public:
  DescPtr tensor(int64_t uid, cudnnDataType_t type, std::vector<int64_t> dims, std::vector<int64_t> strides,
                 bool is_virtual, bool by_value = false) {
    auto t = keep(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    const int64_t alignment = 16;
    t->set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, &type)
        .set(CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, dims.data(), static_cast<int64_t>(dims.size()))
        .set(CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, strides.data(), static_cast<int64_t>(strides.size()))
        .set(CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, &uid)
        .set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, &alignment)
        .set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, &is_virtual);
    if (by_value) t->set(CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, &by_value);
    t->finalize();
    return t;
  }
  // A virtual f32 (or other type) tensor shaped like `dims`, contiguous.
  DescPtr virt(cudnnDataType_t type, const std::vector<int64_t>& dims) {
    std::vector<int64_t> strides(dims.size(), 1);
    for (int64_t d = static_cast<int64_t>(dims.size()) - 2; d >= 0; --d) strides[d] = strides[d + 1] * dims[d + 1];
    return tensor(next_uid_++, type, dims, strides, true);
  }
  // y = op(x [, b [, t]]) with f32 math (or `prec`); axis for GEN_INDEX.
  void pointwise(cudnnPointwiseMode_t mode, const DescPtr& x, const DescPtr& b, const DescPtr& t, const DescPtr& y,
                 cudnnDataType_t prec = CUDNN_DATA_FLOAT, int64_t axis = -1) {
    auto pw = keep(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
    pw->set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, &mode)
        .set(CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, &prec);
    if (axis >= 0) pw->set(CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, &axis);
    pw->finalize();
    auto op = keep(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    op->set_desc(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, *pw).set_desc(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, *x);
    if (b) op->set_desc(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *b);
    if (t) op->set_desc(CUDNN_ATTR_OPERATION_POINTWISE_TDESC, *t);
    op->set_desc(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, *y).finalize();
    ops_.push_back(op);
  }
  void reduction(cudnnReduceTensorOp_t mode, const DescPtr& x, const DescPtr& y) {
    auto red = keep(CUDNN_BACKEND_REDUCTION_DESCRIPTOR);
    const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
    red->set(CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, &mode)
        .set(CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, &f32)
        .finalize();
    auto op = keep(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR);
    op->set_desc(CUDNN_ATTR_OPERATION_REDUCTION_XDESC, *x)
        .set_desc(CUDNN_ATTR_OPERATION_REDUCTION_YDESC, *y)
        .set_desc(CUDNN_ATTR_OPERATION_REDUCTION_DESC, *red)
        .finalize();
    ops_.push_back(op);
  }
  void matmul(const DescPtr& a, const DescPtr& b, const DescPtr& c) {
    auto mm = keep(CUDNN_BACKEND_MATMUL_DESCRIPTOR);
    const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
    mm->set(CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, &f32).finalize();
    auto op = keep(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
    op->set_desc(CUDNN_ATTR_OPERATION_MATMUL_ADESC, *a)
        .set_desc(CUDNN_ATTR_OPERATION_MATMUL_BDESC, *b)
        .set_desc(CUDNN_ATTR_OPERATION_MATMUL_CDESC, *c)
        .set_desc(CUDNN_ATTR_OPERATION_MATMUL_DESC, *mm)
        .finalize();
    ops_.push_back(op);
  }
  const std::vector<DescPtr>& ops() const { return ops_; }

 private:
  DescPtr keep(cudnnBackendDescriptorType_t type) {
    all_.push_back(std::make_shared<Desc>(type));
    return all_.back();
  }
  std::vector<DescPtr> all_, ops_;
  int64_t next_uid_ = kFirstVirtual;
};

struct Plan {
  DescPtr plan;
  int64_t workspace = 0;
};

struct PlanKey {
  int device;
  DType dtype;
  int64_t b, h, n_q, n_k, s, e;
  bool causal;
  bool operator<(const PlanKey& o) const {
    return std::tie(device, dtype, b, h, n_q, n_k, s, e, causal) <
           std::tie(o.device, o.dtype, o.b, o.h, o.n_q, o.n_k, o.s, o.e, o.causal);
  }
};

cudnnHandle_t handle_for(int device) {
  static std::mutex mu;
  static std::map<int, cudnnHandle_t> handles;  // one per device, kept for the process
  std::lock_guard<std::mutex> lock(mu);
  auto it = handles.find(device);
  if (it != handles.end()) return it->second;
  cudnnHandle_t h = nullptr;
  GAU_CUDNN_CHECK(cudnnCreate(&h));
  handles[device] = h;
  return h;
}

Plan build_forward_plan(cudnnHandle_t handle, const PlanKey& key) {
  const int64_t b = key.b, h = key.h, n_q = key.n_q, n_k = key.n_k, s = key.s, e = key.e;
  const cudnnDataType_t io = key.dtype == DType::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
  const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
  GraphBuilder g;
  auto q = g.tensor(kQ, io, {b, h, n_q, s}, {h * n_q * s, n_q * s, s, 1}, false);
  auto k_t = g.tensor(kK, io, {b, h, s, n_k}, {h * n_k * s, n_k * s, 1, s}, false);  // K^T as a strided view
  auto v = g.tensor(kV, io, {b, h, n_k, e}, {h * n_k * e, n_k * e, e, 1}, false);
  auto o = g.tensor(kO, io, {b, h, n_q, e}, {h * n_q * e, n_q * e, e, 1}, false);
  auto stats = g.tensor(kStats, f32, {b, h, n_q, 1}, {h * n_q, n_q, 1, 1}, false);
  auto scale = g.tensor(kScale, f32, {1, 1, 1, 1}, {1, 1, 1, 1}, false, true);
  const std::vector<int64_t> sd = {b, h, n_q, n_k}, rd = {b, h, n_q, 1};

  auto s_raw = g.virt(f32, sd);
  g.matmul(q, k_t, s_raw);
  auto s_scaled = g.virt(f32, sd);
  g.pointwise(CUDNN_POINTWISE_MUL, s_raw, scale, nullptr, s_scaled);
  auto scores = s_scaled;
  if (key.causal) {
    auto row = g.virt(CUDNN_DATA_INT32, sd), col = g.virt(CUDNN_DATA_INT32, sd);
    g.pointwise(CUDNN_POINTWISE_GEN_INDEX, s_scaled, nullptr, nullptr, row, f32, 2);
    g.pointwise(CUDNN_POINTWISE_GEN_INDEX, s_scaled, nullptr, nullptr, col, f32, 3);
    auto keep_mask = g.virt(CUDNN_DATA_BOOLEAN, sd);
    g.pointwise(CUDNN_POINTWISE_CMP_GE, row, col, nullptr, keep_mask, CUDNN_DATA_BOOLEAN);
    auto neg_inf = g.tensor(kNegInf, f32, {1, 1, 1, 1}, {1, 1, 1, 1}, false, true);
    scores = g.virt(f32, sd);
    g.pointwise(CUDNN_POINTWISE_BINARY_SELECT, s_scaled, neg_inf, keep_mask, scores);
  }
  auto row_max = g.virt(f32, rd);
  g.reduction(CUDNN_REDUCE_TENSOR_MAX, scores, row_max);
  auto shifted = g.virt(f32, sd);
  g.pointwise(CUDNN_POINTWISE_SUB, scores, row_max, nullptr, shifted);
  auto expd = g.virt(f32, sd);
  g.pointwise(CUDNN_POINTWISE_EXP, shifted, nullptr, nullptr, expd);
  auto row_sum = g.virt(f32, rd);
  g.reduction(CUDNN_REDUCE_TENSOR_ADD, expd, row_sum);
  auto log_sum = g.virt(f32, rd);
  g.pointwise(CUDNN_POINTWISE_LOG, row_sum, nullptr, nullptr, log_sum);
  g.pointwise(CUDNN_POINTWISE_ADD, row_max, log_sum, nullptr, stats);
  auto probs = g.virt(f32, sd);
  g.pointwise(CUDNN_POINTWISE_DIV, expd, row_sum, nullptr, probs);
  g.matmul(probs, v, o);

  auto graph = std::make_shared<Desc>(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  std::vector<cudnnBackendDescriptor_t> op_list;
  for (const auto& op : g.ops()) op_list.push_back(op->get());
  graph->set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, &handle)
      .set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, op_list.data(),
           static_cast<int64_t>(op_list.size()));
  graph->finalize();

  Desc heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  heur.set_desc(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, *graph).set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, &mode);
  heur.finalize();
  constexpr int64_t kMaxConfigs = 8;
  std::vector<DescPtr> configs;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (int64_t i = 0; i < kMaxConfigs; ++i) {
    configs.push_back(std::make_shared<Desc>(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR));
    raw.push_back(configs.back()->get());
  }
  int64_t returned = 0;
  GAU_CUDNN_CHECK(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                           kMaxConfigs, &returned, raw.data()));
  std::string last_error = "the heuristics returned no engine";
  for (int64_t i = 0; i < returned; ++i) {
    auto plan = std::make_shared<Desc>(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    plan->set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, &handle)
        .set_desc(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, *configs[i]);
    const cudnnStatus_t st = cudnnBackendFinalize(plan->get());
    if (st != CUDNN_STATUS_SUCCESS) {
      last_error = cudnnGetErrorString(st);
      continue;
    }
    Plan out;
    out.plan = plan;
    int64_t count = 0;
    GAU_CUDNN_CHECK(cudnnBackendGetAttribute(plan->get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64,
                                             1, &count, &out.workspace));
    return out;
  }
  GAU_FAIL("attention (cuDNN): no engine can run the SDPA forward graph for b=", b, " h=", h, " n_q=", n_q,
           " n_k=", n_k, " s=", s, " e=", e, key.causal ? " causal" : "", ": ", last_error,
           " (use backend gau)");
}

const Plan& forward_plan(cudnnHandle_t handle, const PlanKey& key) {
  static std::mutex mu;
  static std::map<PlanKey, Plan> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, build_forward_plan(handle, key)).first;
  return it->second;
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
  else if (opt.bias.kind != RelativeBias::Kind::none)
    why = "the cuDNN graph has no relative bias";
  else if (opt.dropout_p > 0)
    why = "the cuDNN graph has no dropout";
  if (!why.empty() && why_not != nullptr) *why_not = why;
  return why.empty();
}

ForwardResult forward_cudnn(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt) {
  std::string why;
  GAU_CHECK(cudnn_supports(q.dtype(), q.size(3), v.size(3), opt, &why), "attention forward (cuDNN): ", why);
  GAU_CHECK(q.is_contiguous() && k.is_contiguous() && v.is_contiguous(),
            "attention forward (cuDNN): expected contiguous q, k, v, got q ", describe(q), ", k ", describe(k),
            ", v ", describe(v));
  const PlanKey key{q.device().index, q.dtype(), q.size(0), q.size(1), q.size(2), k.size(2), q.size(3), v.size(3),
                    opt.causal};
  if (key.causal && key.n_q != key.n_k) return forward_cuda(q, k, v, opt);  // end-aligned mask: see the top

  cuda::DeviceGuard guard(q.device());
  cudaStream_t stream = cuda::current_cuda_stream(q.device());
  cudnnHandle_t handle = handle_for(q.device().index);
  GAU_CUDNN_CHECK(cudnnSetStream(handle, stream));
  const Plan& plan = forward_plan(handle, key);

  ForwardResult res;
  res.o = Tensor::empty({key.b, key.h, key.n_q, key.e}, q.dtype(), q.device());
  res.lse = Tensor::empty({key.b, key.h, key.n_q}, DType::f32, q.device());
  Tensor workspace = Tensor::empty({std::max<int64_t>(plan.workspace, 1)}, DType::b8, q.device());
  float scale = static_cast<float>(opt.scale);
  float neg_inf = -std::numeric_limits<float>::infinity();
  std::vector<int64_t> uids = {kQ, kK, kV, kO, kStats, kScale};
  std::vector<void*> ptrs = {q.data_ptr(), k.data_ptr(), v.data_ptr(), res.o.data_ptr(), res.lse.data_ptr(), &scale};
  if (key.causal) {
    uids.push_back(kNegInf);
    ptrs.push_back(&neg_inf);
  }
  Desc pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  void* ws = workspace.data_ptr();
  pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, uids.data(), static_cast<int64_t>(uids.size()))
      .set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, ptrs.data(), static_cast<int64_t>(ptrs.size()))
      .set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, &ws);
  pack.finalize();
  GAU_CUDNN_CHECK(cudnnBackendExecute(handle, plan.plan->get(), pack.get()));
  return res;
}

BackwardResult backward_cudnn(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                              const Tensor& d_o, const ResolvedOptions& opt) {
  // The forward's O and LSE are in gau's format, so gau's recompute-backward applies unchanged.
  return backward_cuda(q, k, v, o, lse, d_o, opt);
}

}  // namespace gau::attention::detail
