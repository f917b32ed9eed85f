// The backend-API layer of the cuDNN attention graphs: see backend_descriptors.h.
#include "layers/attention/cudnn/backend_descriptors.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

namespace gau::attention::detail::cudnn_backend {

void check(cudnnStatus_t status, const char* call, const std::string& label, const char* attribute) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  char last[512] = {0};
  cudnnGetLastErrorString(last, sizeof(last));
  GAU_FAIL("attention (cuDNN): ", call, "(", label, attribute != nullptr ? ", " : "",
           attribute != nullptr ? attribute : "", ") failed: ", cudnnGetErrorString(status),
           last[0] != '\0' ? " (" : "", last, last[0] != '\0' ? ")" : "");
}

Desc::Desc(cudnnBackendDescriptorType_t type, std::string label) : label_(std::move(label)) {
  check(cudnnBackendCreateDescriptor(type, &d_), "cudnnBackendCreateDescriptor", label_);
}

Desc::~Desc() {
  if (d_ != nullptr) cudnnBackendDestroyDescriptor(d_);
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (int64_t d = static_cast<int64_t>(dims.size()) - 2; d >= 0; --d) strides[d] = strides[d + 1] * dims[d + 1];
  return strides;
}

DescPtr GraphBuilder::keep(cudnnBackendDescriptorType_t type, const std::string& label) {
  all_.push_back(std::make_shared<Desc>(type, label));
  return all_.back();
}

DescPtr GraphBuilder::tensor(const std::string& label, int64_t uid, cudnnDataType_t type,
                             const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, bool is_virtual,
                             bool by_value) {
  GAU_CHECK(dims.size() == strides.size(), "attention (cuDNN): tensor ", label, " has dims ", dims, " but strides ",
            strides);
  auto t = keep(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "tensor " + label);
  // cudnn-frontend declares every attention tensor 16-byte aligned; the callers check the pointers.
  const int64_t alignment = 16;
  const auto rank = static_cast<int64_t>(dims.size());
  t->set(GAU_CUDNN_ATTR(CUDNN_ATTR_TENSOR_DATA_TYPE), CUDNN_TYPE_DATA_TYPE, &type)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_TENSOR_DIMENSIONS), CUDNN_TYPE_INT64, dims.data(), rank)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_TENSOR_STRIDES), CUDNN_TYPE_INT64, strides.data(), rank)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_TENSOR_UNIQUE_ID), CUDNN_TYPE_INT64, &uid)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT), CUDNN_TYPE_INT64, &alignment)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_TENSOR_IS_VIRTUAL), CUDNN_TYPE_BOOLEAN, &is_virtual);
  if (by_value) t->set(GAU_CUDNN_ATTR(CUDNN_ATTR_TENSOR_IS_BY_VALUE), CUDNN_TYPE_BOOLEAN, &by_value);
  t->finalize();
  return t;
}

DescPtr GraphBuilder::scalar(const std::string& label, int64_t uid) {
  return tensor(label, uid, CUDNN_DATA_FLOAT, {1, 1, 1, 1}, {1, 1, 1, 1}, false, true);
}

DescPtr GraphBuilder::virt(const std::string& label, cudnnDataType_t type, const std::vector<int64_t>& dims,
                           std::vector<int64_t> strides) {
  if (strides.empty()) strides = contiguous_strides(dims);
  return tensor(label, next_uid_++, type, dims, strides, true);
}

void GraphBuilder::pointwise(const std::string& label, cudnnPointwiseMode_t mode, const DescPtr& x, const DescPtr& b,
                             const DescPtr& t, const DescPtr& y, cudnnDataType_t prec, int64_t axis) {
  auto pw = keep(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, "pointwise " + label);
  pw->set(GAU_CUDNN_ATTR(CUDNN_ATTR_POINTWISE_MODE), CUDNN_TYPE_POINTWISE_MODE, &mode)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_POINTWISE_MATH_PREC), CUDNN_TYPE_DATA_TYPE, &prec);
  if (axis >= 0) pw->set(GAU_CUDNN_ATTR(CUDNN_ATTR_POINTWISE_AXIS), CUDNN_TYPE_INT64, &axis);
  pw->finalize();
  auto op = keep(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, "pointwise op " + label);
  op->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR), *pw)
      .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_XDESC), *x);
  if (b) op->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_BDESC), *b);
  if (t) op->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_TDESC), *t);
  op->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_POINTWISE_YDESC), *y).finalize();
  ops_.push_back(op);
}

void GraphBuilder::reduction(const std::string& label, cudnnReduceTensorOp_t mode, const DescPtr& x,
                             const DescPtr& y) {
  auto red = keep(CUDNN_BACKEND_REDUCTION_DESCRIPTOR, "reduction " + label);
  const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
  red->set(GAU_CUDNN_ATTR(CUDNN_ATTR_REDUCTION_OPERATOR), CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, &mode)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_REDUCTION_COMP_TYPE), CUDNN_TYPE_DATA_TYPE, &f32)
      .finalize();
  auto op = keep(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR, "reduction op " + label);
  op->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_REDUCTION_XDESC), *x)
      .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_REDUCTION_YDESC), *y)
      .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_REDUCTION_DESC), *red)
      .finalize();
  ops_.push_back(op);
}

void GraphBuilder::matmul(const std::string& label, const DescPtr& a, const DescPtr& b, const DescPtr& c) {
  auto mm = keep(CUDNN_BACKEND_MATMUL_DESCRIPTOR, "matmul " + label);
  const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
  mm->set(GAU_CUDNN_ATTR(CUDNN_ATTR_MATMUL_COMP_TYPE), CUDNN_TYPE_DATA_TYPE, &f32).finalize();
  auto op = keep(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR, "matmul op " + label);
  op->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_MATMUL_ADESC), *a)
      .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_MATMUL_BDESC), *b)
      .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_MATMUL_CDESC), *c)
      .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_MATMUL_DESC), *mm)
      .finalize();
  ops_.push_back(op);
}

void GraphBuilder::reshape(const std::string& label, const DescPtr& x, const DescPtr& y) {
  auto op = keep(CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR, "reshape op " + label);
  op->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_RESHAPE_XDESC), *x)
      .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATION_RESHAPE_YDESC), *y)
      .finalize();
  ops_.push_back(op);
}

Plan GraphBuilder::build_plan(cudnnHandle_t handle, const std::string& what) {
  Plan out;
  auto graph = keep(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "operation graph of " + what);
  std::vector<cudnnBackendDescriptor_t> op_list;
  for (const auto& op : ops_) op_list.push_back(op->get());
  graph->set(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATIONGRAPH_HANDLE), CUDNN_TYPE_HANDLE, &handle)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_OPERATIONGRAPH_OPS), CUDNN_TYPE_BACKEND_DESCRIPTOR, op_list.data(),
           static_cast<int64_t>(op_list.size()));
  graph->finalize();

  auto heur = keep(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "engine heuristics of " + what);
  const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  heur->set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH), *graph)
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_ENGINEHEUR_MODE), CUDNN_TYPE_HEUR_MODE, &mode);
  heur->finalize();

  // The heuristics fill engine-config descriptors the caller has created: ask how many configs
  // there are first (a null array with count 0), then create exactly that many. `returned` is
  // still clamped to what was created, so a count that changed between the calls can never index
  // past the array.
  int64_t available = 0;
  check(cudnnBackendGetAttribute(heur->get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0,
                                 &available, nullptr),
        "cudnnBackendGetAttribute", heur->label(), "CUDNN_ATTR_ENGINEHEUR_RESULTS (count)");
  std::vector<DescPtr> configs;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (int64_t i = 0; i < available; ++i) {
    configs.push_back(keep(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "engine config " + std::to_string(i) + " of " + what));
    raw.push_back(configs.back()->get());
  }
  int64_t returned = 0;
  if (available > 0)
    check(cudnnBackendGetAttribute(heur->get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                   available, &returned, raw.data()),
          "cudnnBackendGetAttribute", heur->label(), "CUDNN_ATTR_ENGINEHEUR_RESULTS");
  returned = std::clamp<int64_t>(returned, 0, available);

  std::string last_error = "the heuristics returned no engine config";
  for (int64_t i = 0; i < returned; ++i) {
    auto plan = keep(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "execution plan " + std::to_string(i) + " of " + what);
    plan->set(GAU_CUDNN_ATTR(CUDNN_ATTR_EXECUTION_PLAN_HANDLE), CUDNN_TYPE_HANDLE, &handle)
        .set_desc(GAU_CUDNN_ATTR(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG), *configs[i]);
    // An engine may refuse this graph at finalisation; the next config is tried then.
    const cudnnStatus_t st = cudnnBackendFinalize(plan->get());
    if (st != CUDNN_STATUS_SUCCESS) {
      char msg[512] = {0};
      cudnnGetLastErrorString(msg, sizeof(msg));
      last_error = std::string(cudnnGetErrorString(st)) + (msg[0] != '\0' ? std::string(" (") + msg + ")" : "");
      continue;
    }
    int64_t count = 0;
    check(cudnnBackendGetAttribute(plan->get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &count,
                                   &out.workspace),
          "cudnnBackendGetAttribute", plan->label(), "CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE");
    out.plan = plan;
    out.keep_alive = all_;
    return out;
  }
  GAU_FAIL("attention (cuDNN): no engine can run the ", what, ": ", last_error, " (use backend gau)");
}

cudnnHandle_t handle_for(int device) {
  // One per thread and device: the caller binds it to its current stream before executing, and a
  // handle shared between threads could run one thread's graph on the other's stream. Kept for
  // the thread's life (cuDNN handles are cheap to hold, costly to create per call).
  thread_local std::map<int, cudnnHandle_t> handles;
  auto it = handles.find(device);
  if (it != handles.end()) return it->second;
  cudnnHandle_t h = nullptr;
  check(cudnnCreate(&h), "cudnnCreate", "handle for device " + std::to_string(device));
  handles[device] = h;
  return h;
}

float mask_value() {
  return cudnnGetVersion() >= 91000 ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::lowest();
}

void execute(cudnnHandle_t handle, const Plan& plan, const std::vector<int64_t>& uids, const std::vector<void*>& ptrs,
             void* workspace, const std::string& what) {
  GAU_CHECK(uids.size() == ptrs.size(), "attention (cuDNN): ", what, ": ", uids.size(), " unique ids for ",
            ptrs.size(), " pointers");
  Desc pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, "variant pack of " + what);
  pack.set(GAU_CUDNN_ATTR(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS), CUDNN_TYPE_INT64, uids.data(),
           static_cast<int64_t>(uids.size()))
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS), CUDNN_TYPE_VOID_PTR, ptrs.data(),
           static_cast<int64_t>(ptrs.size()))
      .set(GAU_CUDNN_ATTR(CUDNN_ATTR_VARIANT_PACK_WORKSPACE), CUDNN_TYPE_VOID_PTR, &workspace);
  pack.finalize();
  check(cudnnBackendExecute(handle, plan.plan->get(), pack.get()), "cudnnBackendExecute", plan.plan->label());
}

}  // namespace gau::attention::detail::cudnn_backend
